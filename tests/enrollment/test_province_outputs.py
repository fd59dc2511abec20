"""One fixture province, its figures computed by hand, checked end to end: the JSON API, the
dashboard page, and the locked month's CSV, XLSX and PDF give exactly those numbers (both
engines). Also: the roster page agrees with the dashboard for a re-enrolled person, and the
dashboard and reports pages link to the exports that exist."""

from __future__ import annotations

import copy
import csv
import io
import random
import re
import subprocess
import unicodedata
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from courses.models import Audience
from courses.service import import_package
from enrollment import service as enrollment_service
from enrollment.assignments.service import create_assignment
from enrollment.models import Enrollment
from enrollment.reports import counters, snapshots
from enrollment.reports.documents import Figures
from enrollment.reports.figures import live_children, unit_figures
from enrollment.rosters import service as rosters
from enrollment.rosters.importer import import_roster
from enrollment.rosters.models import ExemptReason, RosterEntry
from lms.db import utcnow
from lms.demo.people import synthetic_personal_id
from lms.people.models import Role
from lms.pii import hash_personal_id
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import COURSE, write_package
from tests.enrollment.test_figures_api import on_day
from tests.enrollment.test_snapshots import Clock
from tests.support.factories import login

# Province FXP (under the ministry): commune FXC1 with schools FXS1 (class FXS1A) and FXS2
# (class FXS2B), commune FXC2 with school FXS3 (class FXS3C), and the agency FXAG (department
# FXAGD) sitting on the province itself. Codes are short so that the PDF's code column holds
# them on one line.
PROVINCE, C1, C2, AGENCY = "FXP", "FXC1", "FXC2", "FXAG"
S1, S2, S3 = "FXS1", "FXS2", "FXS3"
STUDENTS, STAFF = "TEST-ATGT", "TEST-CCVC"
C1_DUE, C2_DUE, AGENCY_DUE = date(2026, 5, 31), date(2026, 6, 30), date(2026, 5, 31)
TODAY = date(2026, 6, 10)  # after the C1 and agency due dates, before C2's
LOCKED_AT = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 on 10 June in Vietnam
PERIOD = "2026-05"
STUDENT_BORN, STAFF_BORN = date(2012, 9, 5), date(1985, 3, 14)

# ------------------------------------------------------------------------------------------
# The people (p = pupils, TEST-ATGT; q = civil servants, TEST-CCVC) and the expected figures,
# by hand, as Figures(expected, completed, in_progress, not_started, overdue, exempt):
#
# FXS1, class A (C1, due 31 May: on 10 June every one not completed is overdue)
#   p1 completed · p2 in progress · p3 not started (never signed in) · p4 exempt (long
#   illness) · p5 completed, then LEFT (the re-imported roster leaves them out) · p6 moved
#   to FXS2 (left here, active there)
#   expected 3 (p1 p2 p3), completed 1 (p1), in progress 1 (p2), not started 1 (p3),
#   overdue 2 (p2 p3), exempt 1 (p4); p5 and p6 do not count at all here.
FXS1 = Figures(3, 1, 1, 1, 2, 1)
# FXS2, class B (C1): p6 (moved in, completed) · p7 completed version 1, then RE-ENROLLED
#   in version 2: in progress, the old completion is history · p8 not started (account, never
#   enrolled)
#   expected 3, completed 1 (p6), in progress 1 (p7), not started 1 (p8), overdue 2 (p7 p8).
FXS2 = Figures(3, 1, 1, 1, 2, 0)
# FXC1 = FXS1 + FXS2; p6 (on the rosters of both schools) counts once.
FXC1 = Figures(6, 2, 2, 2, 4, 1)
# FXS3, class C (C2, due 30 June: nobody is overdue on 10 June): p9 and p12 completed · p10
#   in progress · p11 not started.
FXS3 = Figures(4, 2, 1, 1, 0, 0)
FXC2 = FXS3  # its only school
# FXAG, department D (TEST-CCVC, due 31 May): q1 completed · q2 not started (overdue).
FXAG = Figures(2, 1, 0, 1, 1, 0)
# FXP = FXC1 + FXC2 + FXAG: expected 6+4+2 = 12, completed 2+2+1 = 5, in progress 2+1+0 = 3,
#   not started 2+1+1 = 4, overdue 4+0+1 = 5, exempt 1. Rate 5/12 = 41.66…% -> 41.6 (rounded
#   down), still to complete 12-5 = 7.
FXP = Figures(12, 5, 3, 4, 5, 1)
# Rates (one decimal, rounded down) and gaps, as the outputs print them.
RATES = {PROVINCE: "41.6", C1: "33.3", C2: "50.0", AGENCY: "50.0", S1: "33.3", S2: "33.3",
         S3: "50.0", "FXS1A": "33.3"}
GAPS = {PROVINCE: 7, C1: 4, C2: 2, AGENCY: 1, S1: 2, S2: 2, S3: 2, "FXS1A": 2}
CHILDREN = {PROVINCE: {AGENCY: FXAG, C1: FXC1, C2: FXC2}, C1: {S1: FXS1, S2: FXS2},
            C2: {S3: FXS3}, S1: {"FXS1A": FXS1}}
TOTALS = {PROVINCE: FXP, C1: FXC1, C2: FXC2, S1: FXS1, S2: FXS2, S3: FXS3, AGENCY: FXAG,
          "FXS1A": FXS1}  # the school's only class holds all its people
NAMES = {PROVINCE: "Tỉnh Kiểm Thử", C1: "Xã Một", C2: "Xã Hai", AGENCY: "Sở Thử Nghiệm",
         S1: "Trường Một", S2: "Trường Hai", S3: "Trường Ba"}
FIELDS = ("expected", "completed", "in_progress", "not_started", "overdue", "exempt")


def roster_csv(rows, column="Lớp"):
    lines = [f"Họ và tên;Số định danh cá nhân;Ngày sinh;{column}"]
    lines += [f"{name};{pid};{born:%d/%m/%Y};{group}" for name, pid, born, group in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


@pytest.fixture
def province(db, make, tmp_path, monkeypatch):
    import_package(write_package(tmp_path / "atgt"))
    staff_course = {**copy.deepcopy(COURSE), "code": STAFF, "audience": "public_servants",
                    "title": {"vi": "Chuyển đổi số cho công chức", "en": "Digital government"}}
    import_package(write_package(tmp_path / "ccvc", course=staff_course))
    root = make.unit("province", "BGDDT", code=PROVINCE, name=NAMES[PROVINCE])
    c1 = make.unit("commune", root, code=C1, name=NAMES[C1])
    c2 = make.unit("commune", root, code=C2, name=NAMES[C2])
    for commune, school, klass in ((c1, S1, "A"), (c1, S2, "B"), (c2, S3, "C")):
        make.unit("class", make.unit("school", commune, code=school, name=NAMES[school]),
                  code=f"{school}{klass}", name=f"Lớp {klass}")
    agency = make.unit("agency", root, code=AGENCY, name=NAMES[AGENCY])
    make.unit("department", agency, code=f"{AGENCY}D", name="Phòng Một")
    officer = make.person(Role.OFFICER, root, name="Hoàng Thị Lụa")
    create_assignment(officer, C1, [STUDENTS], Audience.STUDENTS, date(2026, 5, 1), C1_DUE)
    create_assignment(officer, C2, [STUDENTS], Audience.STUDENTS, date(2026, 5, 1), C2_DUE)
    create_assignment(officer, AGENCY, [STAFF], Audience.PUBLIC_SERVANTS, date(2026, 5, 1),
                      AGENCY_DUE)

    rng = random.Random(11)
    pupils = {f"p{n}": synthetic_personal_id(rng, "008", STUDENT_BORN, n % 2 == 0, 600 + n)
              for n in range(1, 13)}
    staff = {f"q{n}": synthetic_personal_id(rng, "008", STAFF_BORN, n % 2 == 0, 650 + n)
             for n in (1, 2)}
    ids = {**pupils, **staff}

    def rows(people, group, born=STUDENT_BORN):
        return [(f"Người {p.upper()}", ids[p], born, group) for p in people]

    first = rows(["p1", "p2", "p3", "p4", "p5", "p6"], "FXS1A")
    import_roster(None, S1, "s1.csv", roster_csv(first), dry_run=False)
    users = {}

    def account(person, klass):
        user = make.user(name=f"Người {person.upper()}", personal_id=ids[person])
        make.grant(user, Role.LEARNER, find_unit_by_code(klass))
        rosters.link_user(user, hash_personal_id(ids[person]))
        users[person] = user
        return user

    def complete(person, course=STUDENTS):
        enrollment_service._complete(enrollment_service.enroll(users[person], course))

    for person in ("p1", "p2", "p4", "p5", "p6"):
        account(person, "FXS1A")
    complete("p5")  # completed, and then left: must not count anywhere
    complete("p6")  # completed in FXS1, then moved to FXS2 where it counts
    # the school's re-imported roster leaves p5 and p6 out: they are "left" in FXS1
    import_roster(None, S1, "s1.csv", roster_csv(rows(["p1", "p2", "p3", "p4"], "FXS1A")),
                  dry_run=False)
    import_roster(None, S2, "s2.csv", roster_csv(rows(["p6", "p7", "p8"], "FXS2B")),
                  dry_run=False)
    import_roster(None, S3, "s3.csv", roster_csv(rows(["p9", "p10", "p11", "p12"], "FXS3C")),
                  dry_run=False)
    import_roster(None, AGENCY, "ag.csv", roster_csv(rows(["q1", "q2"], f"{AGENCY}D",
                                                          STAFF_BORN), "Phòng ban"),
                  dry_run=False)
    for person in ("p7", "p8"):
        account(person, "FXS2B")
    for person in ("p9", "p10", "p12"):
        account(person, "FXS3C")
    account("q1", f"{AGENCY}D")
    complete("p1")
    enrollment_service.enroll(users["p2"], STUDENTS)
    complete("p9")
    complete("p12")
    enrollment_service.enroll(users["p10"], STUDENTS)
    complete("q1", STAFF)
    # p7 completed version 1, then re-enrolled in version 2 (tests/enrollment/test_figures.py)
    complete("p7")
    second = copy.deepcopy(COURSE)
    second["version"] = 2
    v2, _ = import_package(write_package(tmp_path / "atgt-v2", course=second))
    db.add(Enrollment(user_id=users["p7"].id, course_id=v2.id,
                      started_at=utcnow() + timedelta(seconds=1)))
    db.flush()
    counters.refresh_for_user(users["p7"].id, STUDENTS)
    entry = db.execute(select(RosterEntry).where(
        RosterEntry.personal_id_hash == hash_personal_id(ids["p4"]))).scalar_one()
    rosters.exempt(officer, entry.id, ExemptReason.LONG_ILLNESS, None)

    on_day(monkeypatch, TODAY)
    clock = Clock(monkeypatch, LOCKED_AT)
    return {"officer": officer, "users": users, "clock": clock}


def test_the_fixture_matches_the_hand_computed_figures(province):
    """The figures module itself (counters) and the live recomputation, before any output."""
    for code, expected in TOTALS.items():
        assert unit_figures(find_unit_by_code(code), TODAY).figures == expected, code
    for code, children in CHILDREN.items():
        result = unit_figures(find_unit_by_code(code), TODAY)
        assert {row.code: row.figures for row in result.children} == children, code
        assert live_children(find_unit_by_code(code), TODAY) == children, code
    for code, rate in RATES.items():
        assert str(TOTALS[code].rate) == rate and TOTALS[code].gap == GAPS[code], code


# (a) the JSON API -------------------------------------------------------------------------

def api_figures(figures: Figures, code: str) -> dict:
    return {**{f: getattr(figures, f) for f in FIELDS}, "rate": RATES.get(code),
            "gap": figures.gap}


def test_api(client, province):
    login(client, province["officer"])
    for code, total in TOTALS.items():
        body = client.get(f"/api/v1/units/{code}/figures").get_json()
        assert body["today"] == TODAY.isoformat()
        assert body["figures"] == api_figures(total, code), code
        if code in CHILDREN:
            got = {c["code"]: c["figures"] for c in body["children"]}
            assert got == {child: api_figures(f, child)
                           for child, f in CHILDREN[code].items()}, code
    body = client.get(f"/api/v1/units/{PROVINCE}/figures").get_json()
    assert body["courses"] == [STUDENTS, STAFF]
    # by course: the students' course leaves the agency's staff out
    only = client.get(f"/api/v1/units/{PROVINCE}/figures?course={STUDENTS}").get_json()
    assert only["figures"]["expected"] == 10 and only["figures"]["completed"] == 4


def test_api_out_of_scope_is_404(client, make, province):
    login(client, make.person(Role.OFFICER, find_unit_by_code("01")))
    for code in (PROVINCE, C1, S1, AGENCY):
        assert client.get(f"/api/v1/units/{code}/figures").status_code == 404
        assert client.get(f"/units/{code}/dashboard").status_code == 404


# (b) the dashboard page -------------------------------------------------------------------

class DashboardParser(HTMLParser):
    """The unit's <dd data-key> figures, its rate, and each child row's cells."""

    def __init__(self):
        super().__init__()
        self.figures: dict[str, str] = {}
        self.rate = ""
        self.rows: dict[str, list[str]] = {}
        self._key: str | None = None
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "dd" and "data-key" in attrs:
            self._key = attrs["data-key"]
        elif tag == "p" and attrs.get("id") == "unit-rate":
            self._key = "rate"
        elif tag == "tr" and "data-code" in attrs:
            self._row = attrs["data-code"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_data(self, data):
        if self._key == "rate":
            self.rate += data
        elif self._key is not None:
            self.figures[self._key] = self.figures.get(self._key, "") + data
        elif self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("dd", "p"):
            self._key = None
        elif tag == "td" and self._cell is not None and self._row is not None:
            self.rows[self._row].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None


def vi_rate(code: str) -> str:
    return RATES[code].replace(".", ",") + "%"


def test_dashboard_page(client, province):
    login(client, province["officer"])
    for code, total in TOTALS.items():
        response = client.get(f"/units/{code}/dashboard")
        assert response.status_code == 200, code
        page = DashboardParser()
        page.feed(response.get_data(as_text=True))
        assert page.rate.strip() == vi_rate(code), code
        assert page.figures == {**{f: str(getattr(total, f)) for f in FIELDS},
                                "gap": str(GAPS[code])}, code
        for child, figures in CHILDREN.get(code, {}).items():
            # rate, completed / expected, still to complete, overdue, suspicious
            rate, done, gap, overdue, _suspicious = page.rows[child]
            assert rate == vi_rate(child), (code, child)
            assert done == f"{figures.completed} / {figures.expected}", (code, child)
            assert (gap, overdue) == (str(GAPS[child]), str(figures.overdue)), (code, child)
    page = DashboardParser()
    page.feed(client.get(f"/units/{PROVINCE}/dashboard").get_data(as_text=True))
    assert set(page.rows) == {C1, C2, AGENCY}


# (c) the locked month: CSV, XLSX, PDF -----------------------------------------------------

def lock_province(client) -> str:
    """Lock May through the reports page's form, as an officer does; returns the public id."""
    page = client.get(f"/units/{PROVINCE}/reports").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/units/{PROVINCE}/reports",
                           data={"csrf_token": token, "period": PERIOD, "note": ""})
    assert response.status_code == 303, response.data[:300]
    return response.headers["Location"].rsplit("/", 1)[1]


def download(client, public_id: str, fmt: str) -> bytes:
    response = client.get(f"/snapshots/{public_id}.{fmt}")
    assert response.status_code == 200, response.data[:300]
    return response.data


def spreadsheet_row(figures: Figures, code: str) -> list[str]:
    """expected … exempt, rate, gap: as the CSV writes them."""
    return [*(str(v) for v in astuple(figures)), RATES[code], str(GAPS[code])]


def test_locked_snapshot_csv_xlsx_pdf(client, province, tmp_path):
    login(client, province["officer"])
    public_id = lock_province(client)

    # CSV: header, the province's total, one row per commune and the agency
    data = download(client, public_id, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    _header, total, *children = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    # period, level, code, name, kind, expected … exempt, rate, gap, snapshot, version, hash
    assert total[0] == PERIOD and total[2] == PROVINCE and total[3] == NAMES[PROVINCE]
    assert total[5:13] == spreadsheet_row(FXP, PROVINCE)
    assert {row[2]: row[5:13] for row in children} == {
        code: spreadsheet_row(figures, code) for code, figures in CHILDREN[PROVINCE].items()}

    # XLSX: the same numbers, as numbers
    book = load_workbook(io.BytesIO(download(client, public_id, "xlsx")))
    summary, units = book.worksheets
    # the summary ends with expected … exempt, rate, gap
    summary_numbers = [row[1] for row in summary.iter_rows(min_row=2, values_only=True)][-8:]
    assert tuple(summary_numbers[:6]) == astuple(FXP)
    # rates are numbers in the workbook (50.0 reads back as 50)
    assert summary_numbers[6] == float(RATES[PROVINCE]) and summary_numbers[7] == GAPS[PROVINCE]
    _header, xtotal, *xchildren = list(units.iter_rows(values_only=True))
    assert xtotal[2] == PROVINCE and tuple(xtotal[5:11]) == astuple(FXP)
    assert xtotal[11] == float(RATES[PROVINCE]) and xtotal[12] == GAPS[PROVINCE]
    assert {row[2]: (tuple(row[5:11]), row[11], row[12]) for row in xchildren} == {
        code: (astuple(f), float(RATES[code]), GAPS[code])
        for code, f in CHILDREN[PROVINCE].items()}

    # PDF: the figures table (one line per figure) and the children's table (one line each)
    path = tmp_path / "report.pdf"
    path.write_bytes(download(client, public_id, "pdf"))
    text = unicodedata.normalize("NFC", subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
        check=True, capture_output=True, text=True).stdout)
    lines = text.splitlines()

    def figure_line(label: str) -> str:
        found = [line for line in lines if re.search(rf"^\s*\d+\s+{label}\s", line)]
        assert len(found) == 1, (label, found)
        words = found[0].split()
        return words[-2] if words[-1] == "người" else words[-1]  # "7 người" (people)

    assert figure_line("Số người phải hoàn thành") == str(FXP.expected)
    assert figure_line("Đã hoàn thành") == str(FXP.completed)
    assert figure_line("Đang học") == str(FXP.in_progress)
    assert figure_line("Chưa bắt đầu") == str(FXP.not_started)
    assert figure_line("Quá hạn chưa hoàn thành") == str(FXP.overdue)
    assert figure_line("Được miễn") == str(FXP.exempt)
    assert figure_line("Tỷ lệ hoàn thành") == vi_rate(PROVINCE)
    assert figure_line("Còn thiếu so với mục tiêu 100%") == str(GAPS[PROVINCE])
    for code, figures in CHILDREN[PROVINCE].items():
        found = [line.split() for line in lines if line.split()[:1] == [code]]
        assert len(found) == 1, (code, found)
        # code, name (words), expected … exempt, rate, gap
        assert found[0][-8:] == [*(str(v) for v in astuple(figures)), vi_rate(code),
                                 str(GAPS[code])], code
        assert " ".join(found[0][1:-8]) == NAMES[code]


def test_a_commune_snapshot_holds_its_own_figures(client, province):
    """The commune's officer-locked month too (the two-roster person once, in FXS2)."""
    snapshot = snapshots.lock(province["officer"], C1, PERIOD)
    login(client, province["officer"])
    data = download(client, snapshot.public_id, "csv")
    _header, total, *children = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert total[5:13] == spreadsheet_row(FXC1, C1)
    assert {row[2]: row[5:13] for row in children} == {
        S1: spreadsheet_row(FXS1, S1), S2: spreadsheet_row(FXS2, S2)}


def test_another_provinces_officer_cannot_download(client, make, province):
    snapshot = snapshots.lock(province["officer"], PROVINCE, PERIOD)
    login(client, make.person(Role.OFFICER, find_unit_by_code("01")))
    for fmt in ("csv", "xlsx", "pdf"):
        assert client.get(f"/snapshots/{snapshot.public_id}.{fmt}").status_code == 404
    assert client.get(f"/units/{PROVINCE}/people.csv").status_code == 404


# The roster page agrees with the dashboard ------------------------------------------------

def roster_completed_expected(html: str) -> list[str]:
    return re.findall(r'<td class="figure">(\d+)/(\d+)</td>', html)


def test_roster_page_agrees_with_the_dashboard(client, province):
    """FXS2 holds p7, whose version-1 completion is history after the re-enrolment: 1 of 3
    completed on both pages (the older count said 2 of 3)."""
    login(client, province["officer"])
    for code, figures in ((S2, FXS2), (S1, FXS1), (S3, FXS3)):
        roster = client.get(f"/units/{code}/roster")
        assert roster.status_code == 200, code
        assert roster_completed_expected(roster.get_data(as_text=True)) == [
            (str(figures.completed), str(figures.expected))], code
        page = DashboardParser()
        page.feed(client.get(f"/units/{code}/dashboard").get_data(as_text=True))
        assert (page.figures["completed"], page.figures["expected"]) == (
            str(figures.completed), str(figures.expected)), code


# Links to the exports ---------------------------------------------------------------------

def hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'<a [^>]*href="([^"]+)"', html)]


def test_dashboard_and_reports_link_to_the_exports(client, province):
    login(client, province["officer"])
    snapshot = snapshots.lock(province["officer"], PROVINCE, PERIOD)
    dashboard = hrefs(client.get(f"/units/{PROVINCE}/dashboard").get_data(as_text=True))
    reports = hrefs(client.get(f"/units/{PROVINCE}/reports").get_data(as_text=True))
    people = f"/units/{PROVINCE}/people.csv"
    expected_types = {
        people: "text/csv",
        f"/units/{PROVINCE}/figures.csv": "text/csv",
        f"/units/{PROVINCE}/figures.xlsx": "application/vnd.openxmlformats-officedocument."
                                          "spreadsheetml.sheet",
        f"/snapshots/{snapshot.public_id}.csv": "text/csv",
        f"/snapshots/{snapshot.public_id}.xlsx": "application/vnd.openxmlformats-"
                                                 "officedocument.spreadsheetml.sheet",
        f"/snapshots/{snapshot.public_id}.pdf": "application/pdf"}
    for url in (people, f"/units/{PROVINCE}/figures.csv", f"/units/{PROVINCE}/figures.xlsx",
                f"/units/{PROVINCE}/reports"):
        assert url in dashboard, url
    for url in expected_types:
        assert url in reports, url
    assert f"/units/{PROVINCE}/dashboard" in reports
    for url, content_type in expected_types.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == content_type, url
    rows = list(csv.reader(io.StringIO(client.get(people).data.decode("utf-8-sig"))))
    assert len(rows) > 1  # the people, with a header
    # a course chosen on the dashboard carries over to the people list
    chosen = hrefs(client.get(f"/units/{PROVINCE}/dashboard?course={STUDENTS}")
                   .get_data(as_text=True))
    assert f"{people}?course={STUDENTS}" in chosen
    assert client.get(f"{people}?course={STUDENTS}").status_code == 200


def test_no_people_link_without_the_right_to_see_people(client, province, monkeypatch):
    """No role may see a unit's figures but not its people today (lms/policy.py); the pages
    must hide the people list's link all the same if one ever does."""
    from lms import policy

    login(client, province["officer"])
    real = policy.can

    def without_people(user, permission, unit):
        return permission is not policy.Permission.VIEW_PEOPLE and real(user, permission, unit)

    monkeypatch.setattr(policy, "can", without_people)
    for url in (f"/units/{PROVINCE}/dashboard", f"/units/{PROVINCE}/reports"):
        html = client.get(url).get_data(as_text=True)
        assert "people.csv" not in html, url
