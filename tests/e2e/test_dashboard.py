"""The province officer's completion dashboard in the browser: the rate the page prints is the
province's (computed here from the counters the server keeps), the children are drawn as
bars, largest gap first, and clicking the first bar opens that commune's dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import import_shipped_course

PROVINCE = "08"
CODE = "ATGT-HS"
SCHOOL = "DEMO-08-S01"
COMPLETERS = 6
TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


@pytest.fixture(scope="module")
def assigned(live_server, server_twin) -> None:
    """The shipped traffic-safety course, assigned by the province officer to its students
    (counters follow), and completed by a few learners of one school, through the services."""
    import_shipped_course(live_server)
    from courses.models import Audience
    from enrollment import service as enrollment_service
    from enrollment.assignments.queries import today_local
    from enrollment.assignments.service import create_assignment
    from lms.db import transaction
    from lms.people.models import User

    officer_id = live_server.user_id("officer", PROVINCE)
    taken = live_server.value(
        "SELECT count(*) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.code = ?"
        " AND a.course_code = ? AND a.audience = 'students' AND a.withdrawn_at IS NULL",
        PROVINCE, CODE)
    learners = [user_id for (user_id,) in live_server.rows(
        "SELECT r.user_id FROM roster_entries r JOIN units n ON n.id = r.roster_unit_id"
        " WHERE n.code = ? AND r.user_id IS NOT NULL AND r.status = 'active'"
        " ORDER BY r.user_id LIMIT ?", SCHOOL, COMPLETERS)]
    with server_twin.app_context(), transaction() as current:
        if not taken:
            officer = current.get(User, officer_id)
            officer.session_level = 2
            today = today_local()
            create_assignment(officer, PROVINCE, [CODE], Audience.STUDENTS,
                              today - timedelta(days=30), today + timedelta(days=60))
        for user_id in learners:
            enrollment = enrollment_service.enroll(current.get(User, user_id), CODE)
            if enrollment.completed_at is None:
                enrollment_service._complete(enrollment)


def vi_rate(completed: int, expected: int) -> str:
    """The rate as the page writes it in Vietnamese: one decimal rounded down, "97,3%"."""
    if not expected:
        return "–"
    tenths = completed * 1000 // expected
    return f"{tenths // 10},{tenths % 10}%"


def counted(live_server, code: str) -> tuple[int, int]:
    """(completed, expected) summed over the counters of the unit's subtree."""
    path = live_server.value("SELECT path FROM units WHERE code = ?", code)
    high = path[:-1] + "0"
    completed, expected = live_server.rows(
        "SELECT coalesce(sum(completed), 0), coalesce(sum(expected), 0)"
        " FROM completion_counters WHERE unit_path >= ? AND unit_path < ?", path, high)[0]
    return completed, expected


def test_officer_opens_the_dashboard_and_drills_down(page: Page, live_server, assigned,
                                                     signed_in, login_id, console_errors):
    signed_in(page, login_id("officer", PROVINCE))
    response = page.goto(f"/units/{PROVINCE}/dashboard")
    assert response is not None and response.status == 200
    name = live_server.value("SELECT name FROM units WHERE code = ?", PROVINCE)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    completed, expected = counted(live_server, PROVINCE)
    assert expected > 0 and completed >= COMPLETERS, (completed, expected)
    expect(page.locator("#unit-rate")).to_have_text(vi_rate(completed, expected))
    expect(page.get_by_role("img", name=re.compile(r"100%"))).to_have_count(1)

    rows = page.locator("#children tbody tr")
    assert rows.count() > 1
    gaps = [int(t.replace(".", "")) for t in
            page.locator("#children tbody tr td:nth-child(4)").all_inner_texts()]
    assert gaps == sorted(gaps, reverse=True) and gaps[0] > 0, gaps[:5]
    first = page.locator("#children a.child-link").first
    child_code = rows.first.get_attribute("data-code")
    assert child_code
    expect(first.locator("svg[role='img']")).to_have_count(1)
    first.locator("svg").click()
    page.wait_for_url(lambda url: urlsplit(url).path == f"/units/{child_code}/dashboard")
    child_name = live_server.value("SELECT name FROM units WHERE code = ?", child_code)
    expect(page.get_by_role("heading", level=1)).to_contain_text(child_name)
    done, due = counted(live_server, child_code)
    expect(page.locator("#unit-rate")).to_have_text(vi_rate(done, due))
    assert TWELVE_DIGITS.search(page.content()) is None
    assert console_errors == []
