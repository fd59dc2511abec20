"""The real sign-in, end to end: the app's OpenID Connect client and its development provider
(LMS_DEV_IDP) talk over HTTP, the browser follows every redirect. Sign-in and sign-out, `next=`,
cancelling at the provider, assurance levels, a replayed callback, phone width. A traceback in
the server log fails any of these tests (the autouse `no_server_errors` fixture)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

SCHOOL = "DEMO-08-S01"


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def me(page: Page):
    """/api/v1/me with the cookies of the page's browser context."""
    return page.request.get("/api/v1/me")


def session_cookies(page: Page) -> list[dict]:
    return [c for c in page.context.cookies() if c["name"] == "session"]


def sessions_of(live_server, user_id: int) -> int:
    return live_server.value("SELECT count(*) FROM user_sessions WHERE user_id = ?", user_id)


def failure_reason(page: Page) -> str | None:
    expect(page.locator("#failure-reason")).to_have_count(1)
    return page.locator("#failure-reason").get_attribute("data-reason")


def test_sign_in_and_out_through_the_provider(page: Page, browser: Browser, live_server, vneid,
                                              session_row, console_errors):
    learner = live_server.citizen("learner")
    response = page.goto("/")
    assert response is not None and response.status == 200
    expect(page.locator("#header-signout")).to_have_count(0)
    page.locator("#header-signin").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#signin-vneid")).to_have_text("Đăng nhập bằng VNeID")
    assert "<" not in page.title() and page.title().startswith("Đăng nhập")
    expect(page.locator("form.signin input[name='next']")).to_have_value("/")

    callback = vneid(page, learner, level=1)
    assert callback.status == 303
    assert path_of(page) == "/"
    expect(page.locator("header.site .who")).to_have_text(learner.full_name)
    expect(page.locator("#header-signin")).to_have_count(0)
    answer = me(page)
    assert answer.status == 200
    body = answer.json()
    assert (body["id"], body["full_name"], body["level"]) == (
        learner.user_id, learner.full_name, 1)
    assert {g["role"] for g in body["grants"]} == {"learner"}
    cookies = session_cookies(page)
    assert len(cookies) == 1
    row = session_row(cookies[0]["value"])
    assert row is not None and row[1:] == (learner.user_id, 1, None)

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#header-signout").click()
    assert posted.value.status == 303
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    page.wait_for_load_state()
    expect(page.locator("#header-signin")).to_be_visible()
    expect(page.locator("header.site .who")).to_have_count(0)
    assert me(page).status == 401
    revoked = live_server.value("SELECT revoked_at FROM user_sessions WHERE id = ?", row[0])
    assert revoked is not None

    # The cookie from before signing out, replayed in another browser, opens nothing.
    thief = browser.new_context(base_url=live_server.url)
    try:
        thief.add_cookies(cookies)
        assert thief.request.get("/api/v1/me").status == 401
    finally:
        thief.close()
    assert console_errors == []


@pytest.mark.parametrize(("wanted", "landing"), [
    ("/units/08", "/units/08"),
    ("//evil.example", "/"),
    ("https://evil.example/x", "/"),
    ("/\\evil.example", "/"),
])
def test_next_after_sign_in_stays_on_the_site(page: Page, live_server, vneid, wanted, landing):
    learner = live_server.citizen("learner", nth=1)
    page.goto(f"/auth/login?next={wanted}")
    assert vneid(page, learner).status == 303
    parts = urlsplit(page.url)
    assert (parts.scheme, parts.hostname, parts.port) == ("http", "127.0.0.1",
                                                          urlsplit(live_server.url).port)
    assert parts.path == landing
    assert me(page).status == 200


def test_cancel_at_the_provider_opens_no_session(page: Page, live_server, vneid, session_row):
    learner = live_server.citizen("learner", nth=2)
    before = sessions_of(live_server, learner.user_id)
    page.goto("/auth/login")
    callback = vneid(page, learner, button="devidp-cancel")
    assert callback.status == 401
    assert path_of(page) == "/auth/callback"
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    assert failure_reason(page) == "cancelled"
    expect(page.locator("#header-signin")).to_be_visible()
    assert me(page).status == 401
    assert [session_row(c["value"]) for c in session_cookies(page)] in ([], [None])
    assert sessions_of(live_server, learner.user_id) == before


def test_officer_needs_level_two(page: Page, live_server, vneid):
    officer = live_server.citizen("officer", "08")
    before = sessions_of(live_server, officer.user_id)
    page.goto("/auth/login")
    expect(page.locator("form.signin input[name='level']")).to_have_value("1")
    callback = vneid(page, officer, level=1)
    assert callback.status == 403
    assert failure_reason(page) == "level"
    assert me(page).status == 401
    assert sessions_of(live_server, officer.user_id) == before
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 404

    page.goto("/auth/login?level=2")
    expect(page.locator("form.signin input[name='level']")).to_have_value("2")
    assert vneid(page, officer, level=2).status == 303
    answer = me(page)
    assert answer.status == 200
    assert (answer.json()["id"], answer.json()["level"]) == (officer.user_id, 2)
    assert sessions_of(live_server, officer.user_id) == before + 1
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 200
    expect(page.locator("header.site .who")).to_have_text(officer.full_name)


def test_replayed_callback_is_refused_and_keeps_the_session(page: Page, live_server, vneid,
                                                            session_row):
    learner = live_server.citizen("learner", nth=3)
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url)
            if urlsplit(r.url).path == "/auth/callback" else None)
    page.goto("/auth/login")
    assert vneid(page, learner).status == 303
    assert len(callbacks) == 1 and "code=" in callbacks[0] and "state=" in callbacks[0]
    cookie = session_cookies(page)[0]["value"]

    response = page.goto(callbacks[0])
    assert response is not None and response.status == 400
    assert failure_reason(page) == "state"
    answer = me(page)
    assert answer.status == 200
    assert (answer.json()["id"], answer.json()["full_name"]) == (
        learner.user_id, learner.full_name)
    row = session_row(cookie)
    assert row is not None and row[1] == learner.user_id and row[3] is None


def test_sign_in_and_provider_pages_fit_a_phone(page: Page, live_server, console_errors):
    page.set_viewport_size({"width": 360, "height": 740})
    response = page.goto("/auth/login")
    assert response is not None and response.status == 200
    expect(page.locator("#signin-vneid")).to_be_visible()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the sign-in page overflows a 360 px screen: {width} px wide"

    page.locator("#signin-vneid").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/dev-idp/authorize")
    expect(page.locator("#devidp-sign-in")).to_be_visible()
    assert page.locator("input[name='subject']").count() > 1
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the provider picker overflows a 360 px screen: {width} px wide"
    assert console_errors == []
