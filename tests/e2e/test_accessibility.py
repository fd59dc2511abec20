"""axe-core (installed from npm by `make system-packages-test` into .cache/npm) on the learner,
school-admin and officer pages, at phone width (360×740) and at desktop width: a table of the
violations by impact is printed for every page, and any serious or critical violation of the
WCAG 2.1 A/AA rules fails the test (issue 8, "pages for every phone").

The app's CSP forbids inline scripts, so axe is injected in a browser context created with
`bypass_csp=True`, used for these audits only; every other browser test keeps the real CSP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import test_dashboard
from tests.e2e.conftest import ROOT
from tests.e2e.test_learning import answer_and_submit, choices
from tests.e2e.test_rosters import check_file, excel_csv, students

AXE_JS = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IMPACTS = ("critical", "serious", "moderate", "minor")
FAILING = {"critical", "serious"}
WIDTHS = {"360": {"width": 360, "height": 740}, "1280": {"width": 1280, "height": 800}}
CODE = test_dashboard.CODE
PROVINCE = test_dashboard.PROVINCE
# No other browser test uses this school: its learners, certificates and uploads are ours.
SCHOOL = "DEMO-08-S10"
LEARNER_CLASS = f"{SCHOOL}-L1"

assigned = test_dashboard.assigned  # ATGT-HS assigned to the province's students (module fixture)


@pytest.fixture(scope="module")
def course_assigned(request, live_server) -> None:
    """The shipped course, assigned to the province's students: test_dashboard's `assigned`,
    whose `courses import` subprocess is skipped once an earlier module has run it."""
    if not live_server.value(
            "SELECT count(*) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.code = ?"
            " AND a.course_code = ? AND a.audience = 'students' AND a.withdrawn_at IS NULL",
            PROVINCE, CODE):
        request.getfixturevalue("assigned")


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():  # fails, never skips: a skipped audit hides regressions
        pytest.fail(f"{AXE_JS} is missing: `make system-packages-test` installs axe-core "
                    "(npm install --prefix .cache/npm axe-core@4)", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


@dataclass
class Audit:
    """Runs axe on the page at both widths and keeps every violation, per page and width."""
    page: Page
    source: str
    found: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def check(self, name: str) -> None:
        for width, size in WIDTHS.items():
            self.page.set_viewport_size(size)
            if not self.page.evaluate("typeof window.axe === 'object'"):
                self.page.add_script_tag(content=self.source)
            result = self.page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
                " resultTypes: ['violations']})", WCAG_TAGS)
            self.found[(name, width)] = result["violations"]
        self.page.set_viewport_size(WIDTHS["360"])

    def visit(self, name: str, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == status, (path, response)
        self.check(name)

    def table(self) -> str:
        lines = [f"{'page':<34} {'width':>5} " + " ".join(f"{i:>8}" for i in IMPACTS)
                 + "  rules"]
        for (name, width), violations in self.found.items():
            counts = Counter(v["impact"] for v in violations)
            rules = ",".join(sorted({v["id"] for v in violations})) or "-"
            lines.append(f"{name:<34} {width:>5} "
                         + " ".join(f"{counts.get(i, 0):>8}" for i in IMPACTS) + f"  {rules}")
        return "\n".join(lines)

    def failures(self) -> list[str]:
        out = []
        for (name, width), violations in self.found.items():
            for v in violations:
                if v["impact"] in FAILING:
                    targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
                    out.append(f"{name} @{width}: {v['impact']} {v['id']} ({v['help']}): "
                               f"{len(v['nodes'])} node(s), e.g. {targets}")
        return out

    def report(self, capsys, title: str) -> None:
        with capsys.disabled():
            print(f"\n\naxe-core {', '.join(WCAG_TAGS)} violations by impact: {title}\n"
                  + self.table())
        failures = self.failures()
        assert not failures, "serious or critical accessibility violations:\n" + "\n".join(
            failures)


@pytest.fixture
def audit(browser: Browser, live_server, axe_source) -> Iterator[Audit]:
    """An Audit in its own browser context that lets axe be injected past the CSP."""
    context = browser.new_context(base_url=live_server.url, viewport=WIDTHS["360"],
                                  bypass_csp=True)
    context.set_default_timeout(10_000)
    yield Audit(context.new_page(), axe_source)
    context.close()


def read_every_lesson(live_server, server_twin, user_id: int) -> None:
    """Enrol the user in CODE and count every lesson read (its clock moved back an hour)."""
    from courses import queries as course_queries
    from enrollment import service as enrollment_service
    from lms.db import transaction
    from lms.people.models import User

    with server_twin.app_context(), transaction() as current:
        enrollment = enrollment_service.enroll(current.get(User, user_id), CODE)
        for lesson in course_queries.lessons_of(enrollment.course_id):
            progress = enrollment_service.open_lesson(enrollment, lesson)
            if progress.read_at is None:
                progress.first_opened_at -= timedelta(hours=1)
                current.flush()
                enrollment_service.mark_read(enrollment, lesson)


def class_name(live_server, class_code: str) -> str:
    return live_server.value("SELECT name FROM units WHERE code = ?", class_code)


def test_learner_pages(audit: Audit, live_server, server_twin, course_assigned, signed_in,
                       login_id, capsys):
    page = audit.page
    audit.visit("home (signed out)", "/")
    audit.visit("sign in", "/auth/login")
    audit.visit("verify a certificate (form)", "/verify")
    user_id = live_server.user_id("learner", LEARNER_CLASS)
    read_every_lesson(live_server, server_twin, user_id)
    signed_in(page, login_id("learner", LEARNER_CLASS, level=1))
    audit.visit("home", "/")
    audit.visit("my courses", "/learn/")
    audit.visit("course progress", f"/learn/{CODE}")
    first = page.locator("ol.lessons a").first.get_attribute("href")
    assert first
    audit.visit("lesson", first)
    audit.visit("my assignments", "/learn/assignments")
    page.goto(f"/learn/{CODE}")
    page.locator("#take-quiz").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/learn/attempts/"))
    audit.check("quiz")
    answer_and_submit(page, choices(page, live_server, right=True))
    expect(page.locator("#result.passed")).to_be_visible()
    audit.check("quiz result")
    audit.visit("my certificates", "/certificates")
    code = live_server.value("SELECT code FROM certificates WHERE user_id = ? AND course_code = ?"
                             " AND state = 'valid'", user_id, CODE)
    assert code, "passing the quiz issued no certificate"
    audit.visit("verify page (valid)", f"/verify/{code}")
    audit.visit("notifications", "/notifications")
    audit.report(capsys, "learner pages")


def test_school_admin_pages(audit: Audit, live_server, course_assigned, signed_in, login_id,
                            tmp_path, capsys):
    page = audit.page
    signed_in(page, login_id("unit_admin", SCHOOL))
    audit.visit("unit", f"/units/{SCHOOL}")
    audit.visit("roster", f"/units/{SCHOOL}/roster")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(excel_csv(students(5), class_name(live_server, LEARNER_CLASS), bad_line=3))
    assert check_file(page, bad).status == 422  # a dry run with an error line: nothing written
    expect(page.get_by_role("alert")).to_be_visible()
    audit.check("roster dry run with errors")
    audit.visit("unit assignments", f"/units/{SCHOOL}/assignments")
    audit.visit("unit certificates", f"/units/{SCHOOL}/certificates")
    audit.visit("reminders", f"/units/{SCHOOL}/reminders")
    page.locator("#course_code").select_option(CODE)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#reminder-form button[type='submit']").click()
    assert posted.value.status == 303
    page.wait_for_load_state()
    audit.check("reminder sent")
    audit.visit("reminders (with the log)", f"/units/{SCHOOL}/reminders")
    expect(page.locator("#reminder-log tbody tr")).not_to_have_count(0)
    audit.visit("class accounts", f"/units/{LEARNER_CLASS}/accounts")
    audit.visit("school completion", f"/units/{SCHOOL}/dashboard")
    audit.report(capsys, "school admin pages")


def lock_month(page: Page, code: str, note: str) -> str:
    """Lock the month the reports page proposes (a correction when it is locked already: the
    note is its reason); returns the locked report's path."""
    if urlsplit(page.url).path != f"/units/{code}/reports":
        page.goto(f"/units/{code}/reports")
    page.locator("#lock-note").fill(note)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#lock-form button[type='submit']").click()
    assert posted.value.status == 303
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/snapshots/"))
    page.wait_for_load_state()
    return urlsplit(page.url).path


def test_officer_pages(audit: Audit, live_server, course_assigned, signed_in, login_id, capsys):
    page = audit.page
    signed_in(page, login_id("officer", PROVINCE))
    audit.visit("province", f"/units/{PROVINCE}")
    audit.visit("province dashboard", f"/units/{PROVINCE}/dashboard")
    audit.visit("class dashboard", f"/units/{LEARNER_CLASS}/dashboard")
    snapshot = lock_month(page, PROVINCE, "Kiểm tra trợ năng")
    audit.check("locked report (snapshot)")
    audit.visit("monthly reports (a locked month)", f"/units/{PROVINCE}/reports")
    expect(page.locator(f"#snapshots a[href='{snapshot}']")).to_be_visible()
    audit.report(capsys, "officer pages")

