"""The three end-to-end journeys of issue 8 in headless Chromium, each signed in for real through
the dev identity provider: a student (course → lessons → quiz → certificate → its public verify
page), a school admin (roster dry run with an error line → fixed file → import → 0/N on the
roster page → a reminder) and a province officer (dashboard → drill down to a class → lock the
month → CSV, XLSX and PDF downloads). On failure a screenshot and the page's HTML are kept in
build/e2e-failures/<test>/, named in the failure message."""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from lms.demo.names import random_name
from lms.demo.people import synthetic_personal_id
from tests.e2e import test_accessibility, test_dashboard
from tests.e2e.conftest import ROOT
from tests.e2e.test_accessibility import lock_month
from tests.e2e.test_learning import PHONE, answer_and_submit, choices, write
from tests.e2e.test_rosters import BOM, TWELVE_DIGITS, check_file, excel_csv, path_of, problems

CODE = test_dashboard.CODE
PROVINCE = test_dashboard.PROVINCE
# Schools no other browser test uses: the journeys' learners, rosters and reminders are theirs.
STUDENT_CLASS = "DEMO-08-S06-L1"
SCHOOL = "DEMO-08-S04"
ROSTER_CLASS = f"{SCHOOL}-L1"
NEWCOMERS = 12
BAD_LINE = 5
FAILURES = ROOT / "build" / "e2e-failures"

# The shipped course, assigned to the province's students (the audits' module fixtures).
assigned = test_accessibility.assigned
course_assigned = test_accessibility.course_assigned
pytestmark = pytest.mark.usefixtures("course_assigned")


@pytest.fixture
def evidence(page: Page, request) -> Callable[[], contextlib.AbstractContextManager]:
    """`with evidence():` keeps a screenshot and the HTML of the page when the block fails,
    in a directory the failure message names."""
    directory = FAILURES / request.node.name
    shutil.rmtree(directory, ignore_errors=True)  # nothing stale from an earlier run

    @contextlib.contextmanager
    def kept() -> Iterator[None]:
        try:
            yield
        except Exception as failure:
            directory.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=directory / "page.png", full_page=True)
                (directory / "page.html").write_text(page.content(), encoding="utf-8")
                failure.add_note(f"screenshot and HTML of {page.url} saved in {directory}")
            except Exception as lost:  # the page itself may be what broke
                failure.add_note(f"no screenshot could be saved in {directory}: {lost}")
            raise

    return kept


def path_of_url(url: str) -> str:
    return urlsplit(url).path


def test_student_journey(page: Page, live_server, vneid, evidence, console_errors):
    student = live_server.citizen("learner", STUDENT_CLASS)
    page.set_viewport_size(PHONE)  # a learner on a phone
    with evidence():
        page.goto("/auth/login?next=/learn/")
        assert vneid(page, student, level=1).status == 303
        assert path_of(page) == "/learn/"
        page.locator(f"#course-{CODE} button").click()
        page.wait_for_url(lambda url: path_of_url(url) == f"/learn/{CODE}")

        # Read every lesson through the next links; the reading clock is then moved back an
        # hour (each lesson counts only after its minimum time) and each is marked read.
        page.locator("ol.lessons a").first.click()
        lessons = [path_of(page)]
        while page.locator("#lesson-next").count():
            page.locator("#lesson-next").click()
            page.wait_for_load_state()
            lessons.append(path_of(page))
        assert len(set(lessons)) == len(lessons) > 1, lessons
        an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
        write(live_server, "UPDATE lesson_progress SET first_opened_at = ? WHERE enrollment_id"
              " IN (SELECT id FROM enrollments WHERE user_id = ?)", an_hour_ago, student.user_id)
        for lesson in lessons:
            page.goto(lesson)
            page.locator("#mark-read").click()
            expect(page.locator("#lesson-read")).to_be_visible()

        page.goto(f"/learn/{CODE}")
        page.locator("#take-quiz").click()
        page.wait_for_url(lambda url: path_of_url(url).startswith("/learn/attempts/"))
        answer_and_submit(page, choices(page, live_server, right=True))
        expect(page.locator("#result.passed")).to_be_visible()
        page.locator("#back-to-course").click()
        expect(page.locator("#completed")).to_be_visible()

        page.goto("/")
        page.locator("#home-my-certificates").click()
        page.wait_for_url(lambda url: path_of_url(url) == "/certificates")
        item = page.locator("#my-certificates li[data-state='valid']")
        expect(item).to_have_count(1)
        serial = item.get_attribute("data-serial")
        assert serial and re.fullmatch(r"BDHVS-\d{4}-\d{7}", serial), serial
        item.locator("a[href^='/verify/']").click()
        page.wait_for_url(lambda url: path_of_url(url).startswith("/verify/"))
        expect(page.locator("#verify-result")).to_have_attribute("data-status", "valid")
        expect(page.locator("#name")).to_have_text(student.full_name)
        expect(page.locator("#verify-result")).to_contain_text(serial)
        assert console_errors == []


def newcomers() -> list[tuple[str, str, date]]:
    """Synthetic people whose IDs (prefix 001, serials from 720001) neither the demo nor any
    other browser test uses."""
    rng = random.Random(20250901)
    out = []
    for i in range(1, NEWCOMERS + 1):
        female = i % 2 == 1
        born = date(2013, 1 + i % 12, 1 + i % 27)
        out.append((random_name(rng, female),
                    synthetic_personal_id(rng, "001", born, female, 720_000 + i), born))
    return out


def active_entries(live_server) -> int:
    return live_server.value(
        "SELECT count(*) FROM roster_entries r JOIN units n ON n.id = r.roster_unit_id"
        " WHERE n.code = ? AND r.status = 'active'", SCHOOL)


def test_school_admin_journey(page: Page, live_server, vneid, evidence, tmp_path,
                              console_errors):
    admin = live_server.citizen("unit_admin", SCHOOL)
    klass = live_server.value("SELECT name FROM units WHERE code = ?", ROSTER_CLASS)
    people = newcomers()
    reminders_before = live_server.value(
        "SELECT count(*) FROM reminders r JOIN units n ON n.id = r.unit_id WHERE n.code = ?",
        SCHOOL)
    with evidence():
        page.goto(f"/auth/login?level=2&next=/units/{SCHOOL}/roster")
        assert vneid(page, admin, level=2).status == 303
        assert path_of(page) == f"/units/{SCHOOL}/roster"

        bad = tmp_path / "lop-loi.csv"
        bad.write_bytes(excel_csv(people, klass, bad_line=BAD_LINE))
        assert check_file(page, bad).status == 422  # the dry run: every bad line, nothing saved
        expect(page.get_by_role("alert")).to_be_visible()
        assert [line for line, _, _ in problems(page)] == [str(BAD_LINE)]
        expect(page.locator("#roster-import")).to_have_count(0)
        with page.expect_download() as downloading:
            page.locator("#problems-csv").click()
        assert Path(downloading.value.path()).read_bytes().startswith(BOM)

        page.goto(f"/units/{SCHOOL}/roster")
        good = tmp_path / "lop.csv"
        good.write_bytes(excel_csv(people, klass))
        assert check_file(page, good).status == 200
        expect(page.get_by_role("alert")).to_have_count(0)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.locator("#roster-import").click()
        assert posted.value.status == 303
        page.wait_for_url(lambda url: path_of_url(url) == f"/units/{SCHOOL}/roster")
        expect(page.locator("p.flash.success[role='status']")).to_be_visible()
        assert TWELVE_DIGITS.search(page.content()) is None

        # 0/N: nobody of the school has completed the assigned course; N counts the roster.
        expected = active_entries(live_server)
        assert expected >= NEWCOMERS
        row = page.locator("#completion tbody tr").filter(has_text=re.compile("giao thông"))
        expect(row.locator("td.figure")).to_have_text(f"0/{expected}")

        page.goto(f"/units/{SCHOOL}/reminders")
        page.locator("#course_code").select_option(CODE)
        page.locator("#message").fill("Các em hãy hoàn thành khoá học trước hạn.")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.locator("#reminder-form button[type='submit']").click()
        assert posted.value.status == 303
        page.wait_for_load_state()
        expect(page.locator(".flash.success")).to_be_visible()
        assert live_server.value(
            "SELECT count(*) FROM reminders r JOIN units n ON n.id = r.unit_id"
            " WHERE n.code = ?", SCHOOL) == reminders_before + 1
        page.goto(f"/units/{SCHOOL}/reminders")
        expect(page.locator("#reminder-log tbody tr")).to_have_count(reminders_before + 1)
        # The refused dry run answers 422 on purpose; Chromium logs it as a failed resource.
        assert [e for e in console_errors if "status of 422" not in e] == []


def download(page: Page, link) -> tuple[str, bytes]:
    with page.expect_download() as started:
        link.click()
    assert started.value.failure() is None, started.value.failure()
    return started.value.suggested_filename, Path(started.value.path()).read_bytes()


def test_officer_journey(page: Page, live_server, vneid, evidence, console_errors):
    officer = live_server.citizen("officer", PROVINCE)
    with evidence():
        page.goto(f"/auth/login?level=2&next=/units/{PROVINCE}/dashboard")
        assert vneid(page, officer, level=2).status == 303
        assert path_of(page) == f"/units/{PROVINCE}/dashboard"
        expect(page.locator("#unit-rate")).to_have_text(re.compile(r"%$"))

        # Drill down, the largest gap first, until a class: province → commune → school → class.
        kinds = []
        for _ in range(4):
            row = page.locator("#children tbody tr").filter(has=page.locator("a.child-link"))
            code = row.first.get_attribute("data-code")
            row.first.locator("a.child-link").click()
            page.wait_for_url(lambda url, c=code: path_of_url(url) == f"/units/{c}/dashboard")
            kinds.append(live_server.value("SELECT kind FROM units WHERE code = ?", code))
            if kinds[-1] == "class":
                break
        assert kinds[-1] == "class", kinds
        name = live_server.value("SELECT name FROM units WHERE code = ?", code)
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        expect(page.locator("#people tbody tr").first).to_be_visible()  # who has not completed
        assert TWELVE_DIGITS.search(page.content()) is None

        page.goto(f"/units/{PROVINCE}/dashboard")
        page.locator("#downloads a[href$='/reports']").click()
        page.wait_for_url(lambda url: path_of_url(url) == f"/units/{PROVINCE}/reports")
        snapshot = lock_month(page, PROVINCE, "Báo cáo tháng (kiểm thử hành trình)")
        expect(page.locator(".flash.success")).to_be_visible()

        files = {}
        for fmt in ("csv", "xlsx", "pdf"):
            link = page.locator(f"ul.actions a[href='{snapshot}.{fmt}']")
            files[fmt] = download(page, link)
            assert files[fmt][0].endswith(f".{fmt}"), files[fmt][0]
            assert len(files[fmt][1]) > 0
            content_type = page.request.head(f"{snapshot}.{fmt}").headers["content-type"]
            assert content_type.startswith({"csv": "text/csv", "pdf": "application/pdf",
                                            "xlsx": "application/vnd.openxmlformats"}[fmt])
        assert files["csv"][1].startswith(BOM)
        assert files["pdf"][1].startswith(b"%PDF-")
        with zipfile.ZipFile(io.BytesIO(files["xlsx"][1])) as workbook:
            assert "xl/workbook.xml" in workbook.namelist()
        assert console_errors == []
