"""School-issued accounts end to end: a unit admin, signed in for real (VNeID level 2 at the dev
provider), creates accounts for a class and gets the printable sheet; a student signs in with a
line of it, must choose a password, and from then on the one-time code is dead."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, expect

SCHOOL = "DEMO-08-S01"
CLASS = f"{SCHOOL}-L1"
STUDENTS = [("Giàng A Páo", "03/04/2013", "2013-04-03"),
            ("Lò Thị Sình", "12/09/2012", "2012-09-12")]
USERNAME = re.compile(re.escape(CLASS.lower()) + r"-[23456789abcdefghjkmnpqrstuvwxyz]{5}")
CODE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}")
PASSWORD = "Lúa-nương-2025"


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def sign_out(page: Page) -> None:
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#header-signout").click()
    assert posted.value.status == 303
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("#header-signin")).to_be_visible()
    assert page.request.get("/api/v1/me").status == 401


def local_sign_in(page: Page, username: str, secret: str) -> int:
    """Submits the school-account form; returns the status of the POST's response."""
    response = page.goto("/auth/local")
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.locator("#username").fill(username)
    page.locator("#code").fill(secret)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#local-sign-in").click()
    page.wait_for_load_state()
    return posted.value.status


def create_sheet(page: Page, live_server, vneid) -> list[tuple[str, str, str]]:
    """Signs the school's unit admin in at level 2 and creates the class's accounts through
    the class page; returns the sheet's (name, username, code) lines."""
    admin = live_server.citizen("unit_admin", SCHOOL)
    page.goto(f"/auth/login?level=2&next=/units/{CLASS}")
    assert vneid(page, admin, level=2).status == 303
    assert path_of(page) == f"/units/{CLASS}"
    expect(page.locator("header.site .who")).to_have_text(admin.full_name)
    page.locator(f"main a[href$='/units/{CLASS}/accounts']").click()
    page.wait_for_url(lambda url: urlsplit(url).path == f"/units/{CLASS}/accounts")
    expect(page.locator("label[for='students']")).to_be_visible()
    page.locator("#students").fill("\n".join(f"{name}; {born}" for name, born, _ in STUDENTS))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#create-accounts").click()
    assert posted.value.status == 200
    assert posted.value.headers.get("cache-control") == "no-store"  # one-time codes
    rows = page.locator("table.sheet tbody tr")
    expect(rows).to_have_count(len(STUDENTS))
    lines = []
    for index in range(len(STUDENTS)):
        row = rows.nth(index)
        name = row.locator("td").nth(1).inner_text().strip()
        username, code = (text.strip() for text in row.locator("td.code").all_inner_texts())
        lines.append((name, username, code))
    sign_out(page)
    return lines


def test_admin_issues_accounts_and_student_chooses_a_password(
        page: Page, browser: Browser, live_server, vneid, session_row):
    lines = create_sheet(page, live_server, vneid)
    assert [name for name, _, _ in lines] == [name for name, _, _ in STUDENTS]
    for _, username, code in lines:
        assert USERNAME.fullmatch(username), username
        assert CODE.fullmatch(code), code
    assert len({username for _, username, _ in lines}) == len(lines)
    for (name, _, born), (_, username, _) in zip(STUDENTS, lines, strict=True):
        stored = live_server.rows(
            "SELECT u.full_name, u.birth_on, u.issuer, a.must_change, g.role, n.code"
            " FROM local_accounts a JOIN users u ON u.id = a.user_id"
            " JOIN role_grants g ON g.user_id = u.id JOIN units n ON n.id = g.unit_id"
            " WHERE a.username = ? AND g.revoked_at IS NULL", username)
        assert stored == [(name, born, "urn:hocvuso:local", 1, "learner", CLASS)]
        assert live_server.value("SELECT secret_hash FROM local_accounts WHERE username = ?",
                                 username) not in {code for _, _, code in lines}

    name, username, code = lines[0]
    user_id = live_server.value(
        "SELECT user_id FROM local_accounts WHERE username = ?", username)
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        student = context.new_page()
        assert local_sign_in(student, username.upper(), code) == 303
        assert path_of(student) == "/auth/local/password"
        # Not signed in until a password is chosen.
        assert student.request.get("/api/v1/me").status == 401
        student.locator("#password").fill(PASSWORD)
        student.locator("#password_again").fill(PASSWORD)
        with student.expect_response(lambda r: r.request.method == "POST") as posted:
            student.locator("#save-password").click()
        assert posted.value.status == 303
        student.wait_for_url(lambda url: urlsplit(url).path == "/")
        expect(student.locator("header.site .who")).to_have_text(name)
        answer = student.request.get("/api/v1/me")
        assert answer.status == 200
        body = answer.json()
        assert (body["id"], body["full_name"], body["level"]) == (user_id, name, 1)
        assert [(g["role"], g["unit_code"]) for g in body["grants"]] == [("learner", CLASS)]
        cookie = next(c["value"] for c in context.cookies() if c["name"] == "session")
        assert session_row(cookie)[1:] == (user_id, 1, None)
        assert live_server.value("SELECT must_change FROM local_accounts WHERE username = ?",
                                 username) == 0
        sign_out(student)
        assert session_row(cookie)[3] is not None

        # The one-time code is used up; the chosen password works.
        assert local_sign_in(student, username, code) == 401
        assert path_of(student) == "/auth/local"
        expect(student.locator("#header-signin")).to_be_visible()
        assert student.request.get("/api/v1/me").status == 401
        assert local_sign_in(student, username, PASSWORD) == 303
        assert path_of(student) == "/"
        expect(student.locator("header.site .who")).to_have_text(name)
        answer = student.request.get("/api/v1/me")
        assert answer.status == 200 and answer.json()["id"] == user_id
        assert answer.json()["level"] == 1
    finally:
        context.close()
