"""A school's unit admin in the browser: sees the school and its classes, adds a class through
the form, cannot reach another school, and cannot post without the CSRF token."""

from __future__ import annotations

import unicodedata
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

SCHOOL = "DEMO-08-S01"
OTHER_SCHOOL = "DEMO-08-S02"


def labelled(page: Page, input_id: str) -> Locator:
    """The field whose <label for=…> names it, found the way assistive technology finds it."""
    text = page.locator(f"label[for='{input_id}']").inner_text().strip()
    assert text, f"#{input_id} has no label"
    field = page.get_by_label(text, exact=True)
    expect(field).to_have_id(input_id)
    return field


def add_form(page: Page) -> Locator:
    return page.locator("form[method='post']", has=page.locator("#new-code"))


def new_code() -> str:
    return f"E2E-{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
def admin_page(page: Page, signed_in, login_id) -> Page:
    signed_in(page, login_id("unit_admin", SCHOOL))
    return page


def school_name(live_server, code: str) -> str:
    return live_server.value("SELECT name FROM units WHERE code = ?", code)


def classes_of(live_server, code: str) -> list[str]:
    return [name for (name,) in live_server.rows(
        "SELECT c.name FROM units c JOIN units s ON s.id = c.parent_id"
        " WHERE s.code = ? ORDER BY c.code", code)]


def test_admin_sees_school_and_adds_a_class(admin_page: Page, live_server, console_errors):
    page = admin_page
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 200
    assert response.headers.get("cache-control") == "no-store"  # personal data, signed in
    expect(page.get_by_role("heading", level=1)).to_have_text(school_name(live_server, SCHOOL))
    shown = page.locator("section[aria-labelledby='children-h'] ul li a").all_inner_texts()
    assert shown[:2] == classes_of(live_server, SCHOOL)[:2]
    assert {"Lớp 4A", "Lớp 5A"} <= set(shown)
    for input_id in ("new-code", "new-name", "new-kind", "import-file"):
        expect(page.locator(f"#{input_id}")).to_be_visible()
    # A school holds classes and nothing else the form could offer.
    kinds = page.locator("#new-kind option").evaluate_all("os => os.map(o => o.value)")
    assert kinds == ["class"]

    code = new_code()
    name = "Lớp 10 Thử nghiệm Đặc biệt"
    labelled(page, "new-code").fill(code)
    # Typed in decomposed form (as some keyboards send it): stored NFC (DESIGN.md).
    labelled(page, "new-name").fill(unicodedata.normalize("NFD", name))
    labelled(page, "new-kind").select_option("class")
    add_form(page).get_by_role("button").click()
    page.wait_for_url(f"**/units/{code}")

    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("p.flash[role='status']")).to_contain_text(name)
    breadcrumb = page.locator("nav.breadcrumb a").all_inner_texts()
    assert breadcrumb[-1] == school_name(live_server, SCHOOL)
    stored = live_server.rows(
        "SELECT c.name, c.kind, p.code FROM units c JOIN units p ON p.id = c.parent_id"
        " WHERE c.code = ?", code)
    assert stored == [(name, "class", SCHOOL)]
    page.goto(f"/units/{SCHOOL}")
    expect(page.locator("section[aria-labelledby='children-h']").get_by_role(
        "link", name=name, exact=True)).to_be_visible()
    assert console_errors == []


def test_admin_cannot_reach_another_school(admin_page: Page, live_server):
    page = admin_page
    page.goto(f"/units/{SCHOOL}")
    token = page.locator("input[name='csrf_token']").first.input_value()
    other = school_name(live_server, OTHER_SCHOOL)

    response = page.goto(f"/units/{OTHER_SCHOOL}")
    assert response is not None and response.status == 404
    assert other not in page.locator("body").inner_text()
    assert page.locator("#new-code").count() == 0
    api = page.request.get(f"/api/v1/units/{OTHER_SCHOOL}")
    assert api.status == 404 and api.json()["code"] == "not_found"

    # Posting straight to the other school's form, with a valid token, writes nothing.
    before = live_server.unit_count()
    code = new_code()
    posted = page.request.post(f"/units/{OTHER_SCHOOL}/children", form={
        "csrf_token": token, "code": code, "name": "Lớp lạ", "kind": "class"})
    assert posted.status == 404  # after any redirect: the other school stays invisible
    assert live_server.unit_count() == before
    assert live_server.value("SELECT count(*) FROM units WHERE code = ?", code) == 0


def test_duplicate_code_is_refused_and_writes_nothing(admin_page: Page, live_server):
    page = admin_page
    page.goto(f"/units/{SCHOOL}")
    taken = f"{SCHOOL}-L1"
    name = f"Lớp trùng mã {uuid.uuid4().hex[:6]}"
    before = live_server.unit_count()
    labelled(page, "new-code").fill(taken)
    labelled(page, "new-name").fill(name)
    add_form(page).get_by_role("button").click()
    page.wait_for_load_state()

    assert urlsplit(page.url).path == f"/units/{SCHOOL}"
    expect(page.locator("p.flash.error[role='alert']").first).to_be_visible()
    assert live_server.unit_count() == before
    assert live_server.value("SELECT count(*) FROM units WHERE name = ?", name) == 0
    assert live_server.value("SELECT name FROM units WHERE code = ?", taken) != name


@pytest.mark.parametrize("form_action", ["children", "import"])
def test_post_without_csrf_token_is_refused(admin_page: Page, live_server, tmp_path,
                                            form_action):
    page = admin_page
    page.goto(f"/units/{SCHOOL}")
    code = new_code()
    form = page.locator(f"form[action$='/{SCHOOL}/{form_action}']")
    removed = form.evaluate(
        "f => { const t = f.querySelector('input[name=csrf_token]'); t.remove(); return !!t; }")
    assert removed and form.locator("input[name='csrf_token']").count() == 0
    if form_action == "children":
        labelled(page, "new-code").fill(code)
        labelled(page, "new-name").fill("Lớp không có mã bảo vệ")
        submit = form.get_by_role("button")
    else:
        upload = tmp_path / "units.csv"
        upload.write_text(f"code,name,type,parent code\n{code},Lớp tải lên,class,{SCHOOL}\n",
                          encoding="utf-8")
        page.locator("#import-file").set_input_files(upload)
        submit = form.locator("button[value='import']")
    before = live_server.unit_count()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        submit.click()
    assert posted.value.status == 400
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert live_server.unit_count() == before
    assert live_server.value("SELECT count(*) FROM units WHERE code = ?", code) == 0


def test_school_page_at_phone_width(admin_page: Page, live_server, tmp_path):
    page = admin_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/units/{SCHOOL}")
    expect(page.locator("#new-code")).to_be_visible()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the school page overflows a 360 px screen: {width} px wide"
    shot = tmp_path / "school-360.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
