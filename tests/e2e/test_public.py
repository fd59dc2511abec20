"""What an anonymous visitor sees: the home page (language, security headers, phone width,
keyboard) and the public tree of official units, without any school below it."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

NO_INLINE_HANDLERS = """() => [...document.querySelectorAll('*')].flatMap(
    el => [...el.attributes].filter(a => a.name.startsWith('on')).map(a => a.name))"""
FOCUSABLE = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
    .filter(el => !el.disabled)"""


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def test_home_language_headers_and_phone_width(page: Page, console_errors, live_server):
    response = page.goto("/")
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.locator("script:not([src])").count() == 0
    assert page.evaluate(NO_INLINE_HANDLERS) == []

    page.goto("/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    lang_cookie = [c for c in page.context.cookies() if c["name"] == "lang"]
    assert [c["value"] for c in lang_cookie] == ["en"]
    # The choice is remembered: a page asked for without ?lang stays in English.
    page.goto("/units/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Choosing Vietnamese again is remembered the same way.
    page.goto("/?lang=vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/", "/units/08"):
        page.goto(path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 360, f"{path} overflows a 360 px screen: {width} px wide"
    assert console_errors == []


def test_public_tree_shows_official_units_and_hides_schools(page: Page, live_server):
    root_code = live_server.value(
        "SELECT code FROM units WHERE parent_id IS NULL AND kind = 'ministry'")
    response = page.goto("/units/")
    assert response is not None and response.status == 200
    assert response.request.redirected_from is not None
    assert _path(page) == f"/units/{root_code}"
    children = page.locator("section[aria-labelledby='children-h']")
    expect(children.get_by_role("link", name="Thành phố Hà Nội", exact=True)).to_be_visible()

    province = live_server.value("SELECT name FROM units WHERE code = '08'")
    children.get_by_role("link", name=province, exact=True).click()
    page.wait_for_url("**/units/08")
    expect(page.get_by_role("heading", level=1)).to_have_text(province)
    communes = live_server.rows(
        "SELECT code, name FROM units WHERE parent_id = (SELECT id FROM units WHERE code = '08')"
        " AND kind = 'commune' ORDER BY code")
    shown = page.locator("section[aria-labelledby='children-h'] ul li a").all_inner_texts()
    # The first page lists communes only (codes sort before the demo units' DEMO-…), by code.
    assert shown == [name for _, name in communes][:len(shown)]
    assert len(shown) == min(len(communes), 100)
    assert any(n.startswith("Xã ") for n in shown) and any(n.startswith("Phường ") for n in shown)
    expect(page.locator("#children-h")).to_contain_text(f"({len(communes)})")

    demo = live_server.rows("SELECT code, name FROM units WHERE code LIKE 'DEMO-08-%'")
    demo_names = {name for _, name in demo if not name.startswith("Lớp")}
    assert demo_names, "the demo data has no schools or agencies"
    _assert_no_demo_units(page, demo_names)
    if page.locator("a[href*='page=2']").count():
        page.locator("a[href*='page=2']").click()
        page.wait_for_url("**/units/08?page=2")
        _assert_no_demo_units(page, demo_names)

    # The commune that holds the first demo school: found with the search form, then clicked.
    commune_code, commune_name = live_server.rows(
        "SELECT p.code, p.name FROM units s JOIN units p ON p.id = s.parent_id"
        " WHERE s.code = 'DEMO-08-S01'")[0]
    page.goto("/units/08")
    page.locator("#q").fill(commune_name)
    page.locator("#q").press("Enter")
    page.wait_for_url("**/units/08?q=*")
    page.locator("section[aria-labelledby='children-h']").get_by_role(
        "link", name=commune_name, exact=True).click()
    page.wait_for_url(f"**/units/{commune_code}")
    expect(page.get_by_role("heading", level=1)).to_have_text(commune_name)
    _assert_no_demo_units(page, demo_names)
    assert page.locator("section[aria-labelledby='children-h'] ul li").count() == 0
    expect(page.locator("#children-h")).to_contain_text("(0)")

    direct = page.goto("/units/DEMO-08-S01")
    assert direct is not None and direct.status == 404
    _assert_no_demo_units(page, demo_names)
    api = page.request.get("/api/v1/units/DEMO-08-S01")
    assert api.status == 404
    assert api.headers["content-type"].startswith("application/json")
    body = api.json()
    assert body["code"] == "not_found" and body["status"] == 404 and body["message"]
    listed = page.request.get(f"/api/v1/units?parent={commune_code}").json()
    assert listed["items"] == [] and listed["meta"]["total"] == 0


def _assert_no_demo_units(page: Page, demo_names: set[str]) -> None:
    text = page.locator("body").inner_text()
    assert "DEMO-08-" not in text
    # (main only: the header's sign-in link carries the requested path as ?next=)
    assert page.locator("main a[href*='DEMO-']").count() == 0
    leaked = {name for name in demo_names if name in text}
    assert not leaked, f"an anonymous visitor sees {leaked} on {page.url}"


def test_skip_link_is_first_and_moves_to_main(page: Page):
    page.goto("/")
    first = page.evaluate(f"({FOCUSABLE})()[0].outerHTML")
    assert 'href="#main"' in first
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.getAttribute('href'),"
                            " document.activeElement.closest('main') === null]")
    assert focused == ["#main", True]
    box = page.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
    assert box["x"] >= 0 and box["y"] >= 0, "the focused skip link is not on screen"
    assert page.locator("main#main").count() == 1

    page.keyboard.press("Enter")
    assert urlsplit(page.url).fragment == "main"
    assert page.evaluate("document.querySelector('main:target') !== null")
    # Focus is on main itself (tabindex=-1) or, in Chromium, the sequential-navigation start
    # point is there: either way the next Tab lands inside main, past the header's links.
    if page.evaluate("document.activeElement.id") != "main":
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), \
        page.evaluate("document.activeElement.outerHTML")
