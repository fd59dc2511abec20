"""Learner pages for every phone (issue 8): each weighs at most 60 KB transferred, HTML + CSS +
JS (images and fonts aside), measured from an empty cache; and a learner reads a lesson and
passes the quiz with JavaScript turned off (the quiz timer and autosave are the only scripts)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.e2e import test_accessibility
from tests.e2e.test_accessibility import CODE, SCHOOL, read_every_lesson
from tests.e2e.test_learning import answer_and_submit, choices, write

LIMIT = 60 * 1024
COUNTED = {"document": "html", "stylesheet": "css", "script": "js"}
PHONE = {"width": 360, "height": 740}
WEIGHED_CLASS = f"{SCHOOL}-L2"
NO_SCRIPT_CLASS = f"{SCHOOL}-L3"

# The shipped course, assigned to the province's students (the audits' module fixtures).
assigned = test_accessibility.assigned
course_assigned = test_accessibility.course_assigned
pytestmark = pytest.mark.usefixtures("course_assigned")


def new_context(browser: Browser, live_server, **options) -> BrowserContext:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, **options)
    context.set_default_timeout(10_000)
    return context


def weigh(page: Page, path: str) -> dict[str, int]:
    """Bytes transferred (headers + body) per kind to load path (the page's cache is off)."""
    finished: list[Request] = []

    def keep(request: Request) -> None:
        finished.append(request)

    page.on("requestfinished", keep)
    try:
        response = page.goto(path, wait_until="load")
    finally:
        page.remove_listener("requestfinished", keep)
    assert response is not None and response.ok, (path, response)
    weights = dict.fromkeys(COUNTED.values(), 0)
    for request in finished:
        kind = COUNTED.get(request.resource_type)
        if kind:
            sizes = request.sizes()
            weights[kind] += sizes["responseHeadersSize"] + sizes["responseBodySize"]
    return weights


@pytest.fixture
def uncached_page(browser: Browser, live_server) -> Iterator[Page]:
    """A phone-sized page whose every load comes from the server, as on a first visit."""
    context = new_context(browser, live_server)
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})
    yield page
    context.close()


def test_learner_pages_weigh_at_most_60_kb(uncached_page: Page, live_server, server_twin,
                                           signed_in, login_id, capsys):
    page = uncached_page
    weights = {name: weigh(page, path) for name, path in (
        ("home (signed out)", "/"), ("sign in", "/auth/login"),
        ("verify a certificate", "/verify"))}
    user_id = live_server.user_id("learner", WEIGHED_CLASS)
    read_every_lesson(live_server, server_twin, user_id)
    signed_in(page, login_id("learner", WEIGHED_CLASS, level=1))
    page.goto(f"/learn/{CODE}")
    lesson = page.locator("ol.lessons a").first.get_attribute("href")
    assert lesson
    page.locator("#take-quiz").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/learn/attempts/"))
    attempt = urlsplit(page.url).path
    for name, path in (("home", "/"), ("my courses", "/learn/"),
                       ("course progress", f"/learn/{CODE}"), ("lesson", lesson),
                       ("my assignments", "/learn/assignments"), ("quiz", attempt)):
        weights[name] = weigh(page, path)
    answer_and_submit(page, choices(page, live_server, right=True))
    expect(page.locator("#result.passed")).to_be_visible()
    code = live_server.value("SELECT code FROM certificates WHERE user_id = ? AND course_code = ?"
                             " AND state = 'valid'", user_id, CODE)
    assert code, "passing the quiz issued no certificate"
    for name, path in (("quiz result", attempt), ("my certificates", "/certificates"),
                       ("verify page", f"/verify/{code}"), ("notifications", "/notifications")):
        weights[name] = weigh(page, path)

    lines = [f"{'page':<24}{'HTML':>9}{'CSS':>9}{'JS':>9}{'total':>9}  (bytes, limit {LIMIT})"]
    for name, w in weights.items():
        lines.append(f"{name:<24}{w['html']:>9}{w['css']:>9}{w['js']:>9}{sum(w.values()):>9}")
    with capsys.disabled():
        print("\n\nlearner page weight, transferred with an empty cache\n" + "\n".join(lines))
    assert all(w["html"] > 0 and w["css"] > 0 for w in weights.values()), weights
    assert weights["quiz"]["js"] > 0  # the timer and autosave script is counted
    heavy = {name: sum(w.values()) for name, w in weights.items() if sum(w.values()) > LIMIT}
    assert not heavy, f"learner pages over {LIMIT} bytes: {heavy}"


def test_a_learner_reads_and_passes_without_javascript(browser: Browser, live_server,
                                                       signed_in,
                                                       login_id):
    context = new_context(browser, live_server, java_script_enabled=False)
    try:
        page = signed_in(context.new_page(), login_id("learner", NO_SCRIPT_CLASS, level=1))
        user_id = live_server.user_id("learner", NO_SCRIPT_CLASS)
        page.goto("/learn/")
        page.locator(f"#course-{CODE} button").click()  # start the course: a plain form POST
        page.wait_for_url(lambda url: urlsplit(url).path == f"/learn/{CODE}")
        lessons = page.locator("ol.lessons a").evaluate_all("links => links.map(a => a.href)")
        assert lessons
        for href in lessons:  # opening a lesson starts its reading clock
            page.goto(href)
            expect(page.locator("article.lesson h1").first).to_be_visible()
        an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
        write(live_server, "UPDATE lesson_progress SET first_opened_at = ? WHERE enrollment_id IN"
              " (SELECT id FROM enrollments WHERE user_id = ?)", an_hour_ago, user_id)
        for href in lessons:
            page.goto(href)
            page.locator("#mark-read").click()
            expect(page.locator("#lesson-read")).to_be_visible()

        page.goto(f"/learn/{CODE}")
        page.locator("#take-quiz").click()
        page.wait_for_url(lambda url: urlsplit(url).path.startswith("/learn/attempts/"))
        expect(page.locator("#timer-value")).to_have_text(re.compile(r"\d+:\d\d"))  # server-printed
        for position, options in choices(page, live_server, right=True).items():
            for option in options:
                page.locator(f"#q{position}-{option}").check()
        expect(page.locator("#save-status")).to_be_empty()  # no autosave without JavaScript
        page.locator("#submit-quiz").click()
        page.wait_for_load_state()
        expect(page.locator("#result.passed")).to_be_visible()
        expect(page.locator("#score")).to_have_text("100%")
        page.locator("#back-to-course").click()
        expect(page.locator("#completed")).to_be_visible()
    finally:
        context.close()
