"""Sign-in sessions live on the server (DESIGN.md): a session below a role's assurance level
does not carry the role, and signing out ends the session even for a replayed old cookie."""

from __future__ import annotations

from playwright.sync_api import Page, expect

SCHOOL = "DEMO-08-S01"


def test_low_assurance_session_carries_no_admin_role(page: Page, signed_in, login_id):
    signed_in(page, login_id("unit_admin", SCHOOL, level=1))
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 404
    assert page.locator("#new-code").count() == 0


def test_sign_out_ends_the_session_on_the_server(page: Page, signed_in, login_id):
    signed_in(page, login_id("unit_admin", SCHOOL))
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 200
    expect(page.locator("#new-code")).to_be_visible()
    before = [c for c in page.context.cookies() if c["name"] == "session"]
    assert len(before) == 1

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#header-signout").click()
    assert posted.value.status == 303
    page.wait_for_load_state()
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 404

    # The cookie from before signing out, put back as a thief would, opens nothing.
    page.context.add_cookies(before)
    response = page.goto(f"/units/{SCHOOL}")
    assert response is not None and response.status == 404
    assert page.locator("#new-code").count() == 0
