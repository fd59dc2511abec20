"""A student learns a shipped course end to end at phone width: signs in through the dev
provider, starts ATGT-HS, reads every lesson (the reading clock is moved back in the database),
fails the quiz, then passes it. Right answers never reach the page before an attempt closes,
and autosave stores a choice before the submit."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Citizen, import_shipped_course

CODE = "ATGT-HS"
PHONE = {"width": 360, "height": 740}
MARKERS = ("correct-option", "✓")


@pytest.fixture(scope="module")
def shipped_course(live_server) -> None:
    """Import the shipped traffic-safety course into the live server's database, with the
    environment the conftest prepared it with (`already loaded` is fine too)."""
    import_shipped_course(live_server)


def write(live_server, sql: str, *params) -> None:
    with contextlib.closing(sqlite3.connect(live_server.database_path, timeout=10)) as conn:
        conn.execute(sql, params)
        conn.commit()


def new_student(live_server) -> Citizen:
    """A demo learner of a class who has not started the course (demo data may have)."""
    rows = live_server.rows(
        "SELECT c.subject, c.full_name, u.id FROM dev_idp_citizens c"
        " JOIN users u ON u.subject = c.subject AND u.issuer = ?"
        " JOIN role_grants g ON g.user_id = u.id JOIN units n ON n.id = g.unit_id"
        " WHERE g.role = 'learner' AND n.kind = 'class' AND g.revoked_at IS NULL"
        " AND u.is_active AND NOT EXISTS (SELECT 1 FROM enrollments e"
        " JOIN courses k ON k.id = e.course_id WHERE e.user_id = u.id AND k.code = ?)"
        " ORDER BY u.id LIMIT 1", live_server.issuer, CODE)
    if not rows:
        pytest.fail("the demo data has no class learner who has not started the course")
    return Citizen(*rows[0])


def fits_phone(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} overflows a 360 px screen: {width} px wide"


def shows_no_answers(page: Page, live_server) -> None:
    html = page.content()
    assert not any(marker in html for marker in MARKERS)
    for (explanation,) in live_server.rows(
            "SELECT q.explanation_vi FROM questions q JOIN quizzes z ON z.id = q.quiz_id"
            " JOIN courses c ON c.id = z.course_id WHERE c.code = ?", CODE):
        assert explanation not in html


def choices(page: Page, live_server, *, right: bool) -> dict[int, list[int]]:
    """Position → option ids to tick: the right ones, or one wrong one, per question."""
    picked = {}
    for fieldset in page.locator("fieldset[data-position]").all():
        shown = [int(v) for v in fieldset.locator("input").evaluate_all(
            "inputs => inputs.map(i => i.value)")]
        marks = ",".join("?" * len(shown))
        correct = {row[0] for row in live_server.rows(
            f"SELECT id FROM question_options WHERE is_correct AND id IN ({marks})",  # noqa: S608
            *shown)}
        picked[int(fieldset.get_attribute("data-position"))] = (
            sorted(correct) if right else [o for o in shown if o not in correct][:1])
    return picked


def answer_and_submit(page: Page, picked: dict[int, list[int]]) -> None:
    for position, options in picked.items():
        for option in options:
            with page.expect_response(lambda r: r.request.method == "PUT") as saved:
                page.locator(f"label[for='q{position}-{option}']").click()
            assert saved.value.status == 200  # autosaved before the submit
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.locator("#submit-quiz").click()
    page.wait_for_load_state()


def test_a_student_reads_fails_and_passes(page: Page, live_server, shipped_course, vneid,
                                          console_errors):
    page.set_viewport_size(PHONE)
    student = new_student(live_server)
    page.goto("/auth/login?next=/learn/")
    assert vneid(page, student, level=1).status == 303
    assert urlsplit(page.url).path == "/learn/"
    card = page.locator(f"#course-{CODE}")
    expect(card.locator("h2")).to_contain_text("An toàn giao thông")
    fits_phone(page)
    card.locator("button").click()
    page.wait_for_url(lambda url: urlsplit(url).path == f"/learn/{CODE}")
    expect(page.locator("#take-quiz")).to_have_count(0)
    slugs = page.locator("ol.lessons li").evaluate_all(
        "items => items.map(i => i.dataset.slug)")
    assert len(slugs) == 6
    fits_phone(page)

    page.locator("ol.lessons a").first.click()
    page.locator("#mark-read").click()  # minutes too early: refused, the page stays
    expect(page.locator(".flash.error")).to_contain_text(re.compile(r"\d+"))
    expect(page.locator("#mark-read")).to_be_visible()
    for slug in slugs:  # open each through the next links
        assert urlsplit(page.url).path == f"/learn/{CODE}/lessons/{slug}"
        fits_phone(page)
        if slug != slugs[-1]:
            page.locator("#lesson-next").click()
            page.wait_for_load_state()
    user_id = student.user_id
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    write(live_server, "UPDATE lesson_progress SET first_opened_at = ? WHERE enrollment_id IN"
          " (SELECT id FROM enrollments WHERE user_id = ?)", an_hour_ago, user_id)
    for slug in slugs:
        page.goto(f"/learn/{CODE}/lessons/{slug}")
        page.locator("#mark-read").click()
        expect(page.locator("#lesson-read")).to_be_visible()

    page.goto(f"/learn/{CODE}")
    expect(page.locator("#lesson-progress")).to_have_attribute("value", "6")
    page.locator("#take-quiz").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/learn/attempts/"))
    attempt_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    shows_no_answers(page, live_server)
    shown = page.locator("#timer-value").inner_text()
    assert re.fullmatch(r"\d+:\d\d", shown)
    expect(page.locator("#timer-value")).not_to_have_text(shown, timeout=3000)  # counts down
    fits_phone(page)

    wrong = choices(page, live_server, right=False)
    position, (option,) = next(iter(wrong.items()))
    with page.expect_response(lambda r: r.request.method == "PUT") as saved:
        page.locator(f"label[for='q{position}-{option}']").click()
    assert saved.value.status == 200
    expect(page.locator("#save-status")).not_to_be_empty()
    stored = live_server.value("SELECT selected FROM attempt_questions WHERE attempt_id = ?"
                               " AND position = ?", attempt_id, position)
    assert json.loads(stored) == [option]
    shows_no_answers(page, live_server)
    answer_and_submit(page, {p: o for p, o in wrong.items() if p != position})
    assert urlsplit(page.url).path == f"/learn/attempts/{attempt_id}"
    expect(page.locator("#result.failed")).to_be_visible()
    expect(page.locator(".correct-option").first).to_be_visible()  # released after closing
    fits_phone(page)

    page.locator("#back-to-course").click()
    page.locator("#take-quiz").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/learn/attempts/"))
    second_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    assert second_id != attempt_id
    shows_no_answers(page, live_server)
    answer_and_submit(page, choices(page, live_server, right=True))
    expect(page.locator("#result.passed")).to_be_visible()
    expect(page.locator("#score")).to_have_text("100%")
    assert live_server.value("SELECT passed FROM quiz_attempts WHERE id = ?", second_id) == 1
    page.locator("#back-to-course").click()
    expect(page.locator("#completed")).to_be_visible()
    assert console_errors == []
