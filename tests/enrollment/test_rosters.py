"""Roster import: every bad line named, nothing written unless all is valid, a re-import is a
diff that never deletes, links by keyed ID hash only (never by name)."""

from __future__ import annotations

import io
import random
import unicodedata
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from enrollment.rosters import service
from enrollment.rosters.importer import import_roster
from enrollment.rosters.models import EntryStatus, ExemptReason, RosterEntry, RosterImport
from lms.demo.names import random_name
from lms.demo.people import synthetic_personal_id
from lms.errors import NotFound, ValidationFailed
from lms.people.models import Role
from lms.pii import hash_personal_id

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
HEADER = "STT;Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"


def students(n=35, seed=7, first_serial=500):
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        female = i % 2 == 0
        born = date(2012, 1 + i % 12, 1 + i % 27)
        out.append((random_name(rng, female), synthetic_personal_id(rng, "008", born, female,
                                                                     first_serial + i), born))
    return out


def excel_csv(rows, bad_line=None):
    """What Excel writes for "CSV UTF-8" with a Vietnamese locale: BOM, ';', CRLF."""
    lines = [HEADER]
    for n, (name, pid, born) in enumerate(rows, start=1):
        when = "31/02/2012" if n + 1 == bad_line else born.strftime("%d/%m/%Y")
        lines.append(f"{n};{name};{pid};{when};Lớp 6A")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


@pytest.fixture
def klass(make):
    school = make.unit("school", "00691", code="ROS-S", name="Trường THCS Hà Giang")
    return make.unit("class", school, code="ROS-S-6A", name="Lớp 6A"), school


def entries(db, **where):
    query = select(func.count()).select_from(RosterEntry)
    for key, value in where.items():
        query = query.where(getattr(RosterEntry, key) == value)
    return db.execute(query).scalar_one()


def test_excel_roster_with_one_bad_date_then_fixed(klass, db):
    rows = students()
    report = import_roster(None, "ROS-S", "lop6a.csv", excel_csv(rows, bad_line=17),
                           dry_run=True)
    assert [(p["line"], p["column"]) for p in report.problems] == [(17, "birth_date")]
    assert entries(db) == 0
    with pytest.raises(ValidationFailed):
        import_roster(None, "ROS-S", "lop6a.csv", excel_csv(rows, bad_line=17), dry_run=False)
    assert entries(db) == 0
    done = import_roster(None, "ROS-S", "lop6a.csv", excel_csv(rows), dry_run=False)
    assert (done.added, done.rows) == (35, 35)
    assert entries(db, status=EntryStatus.ACTIVE, unit_id=klass[0].id) == 35
    masked = db.execute(select(RosterEntry.personal_id_masked)).scalars().first()
    assert "****" in masked and rows[0][1] not in str(db.execute(select(RosterEntry)).all())


def test_reimport_is_a_diff_that_never_deletes(klass, db):
    rows = students()
    import_roster(None, "ROS-S", "a.csv", excel_csv(rows), dry_run=False)
    again = import_roster(None, "ROS-S", "a.csv", excel_csv(rows), dry_run=False)
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 35)
    renamed = [(rows[0][0] + " Anh", *rows[0][1:]), *rows[2:]]  # one renamed, one removed
    renamed.append(students(1, seed=99, first_serial=900)[0])  # one added
    diff = import_roster(None, "ROS-S", "b.csv", excel_csv(renamed), dry_run=True)
    assert (diff.added, diff.changed, diff.removed, diff.unchanged) == (1, 1, 1, 33)
    assert diff.diff["removed"][0]["name"] == rows[1][0]
    import_roster(None, "ROS-S", "b.csv", excel_csv(renamed), dry_run=False)
    assert entries(db) == 36 and entries(db, status=EntryStatus.LEFT) == 1


def test_every_bad_id_line_is_named(klass, db):
    good = students(6)
    lines = [HEADER,
             f"1;{good[0][0]};{good[0][1][:11]};{good[0][2]:%d/%m/%Y};Lớp 6A",  # 11 digits
             f"2;{good[1][0]};{good[1][1]}7;{good[1][2]:%d/%m/%Y};Lớp 6A",  # 13 digits
             f"3;{good[2][0]};{good[2][1][:5]}O{good[2][1][6:]};{good[2][2]:%d/%m/%Y};Lớp 6A",
             f"4;{good[3][0]};{good[3][1].translate(FULL_WIDTH)};{good[3][2]:%d/%m/%Y};Lớp 6A",
             f"5;{good[4][0]};{good[4][1]};{good[4][2]:%d/%m/%Y};Lớp 6A",
             f"6;{good[5][0]};{good[4][1]};{good[4][2]:%d/%m/%Y};Lớp 6A"]  # duplicate of 5
    report = import_roster(None, "ROS-S", "bad.csv", "\n".join(lines).encode(), dry_run=True)
    assert [p["line"] for p in report.problems] == [2, 3, 4, 5, 7]
    messages = " | ".join(p["message"] for p in report.problems)
    assert "11" in messages and "13" in messages and "O" in messages
    assert "line 6" in messages or "dòng 6" in messages
    assert entries(db) == 0


def test_id_inconsistent_with_the_birth_year_names_the_digits(klass):
    name, pid, born = students(1)[0]
    wrong_year = born.replace(year=born.year + 1)
    csv = f"{HEADER}\n1;{name};{pid};{wrong_year:%d/%m/%Y};Lớp 6A\n".encode()
    [problem] = import_roster(None, "ROS-S", "x.csv", csv, dry_run=True).problems
    assert problem["column"] == "personal_id" and "5-6" in problem["message"]


def test_xlsx_numeric_ids_are_restored_only_when_certain(klass):
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Mã định danh", "Ngày sinh", "Lớp"])
    sheet.append(["Hà Văn Nam", int("001203004567"), date(2003, 5, 1), "ROS-S-6A"])
    sheet.append(["Lò Thị Hoa", 12030045, date(2003, 5, 1), "ROS-S-6A"])
    data = io.BytesIO()
    book.save(data)
    report = import_roster(None, "ROS-S", "lop.xlsx", data.getvalue(), dry_run=True)
    assert [(p["line"], p["column"]) for p in report.problems] == [(3, "personal_id")]
    message = report.problems[0]["message"]
    assert "Text" in message or "Văn bản" in message
    assert "12030045" not in message  # the digits are not repeated anywhere


def test_someone_on_another_active_roster_is_refused(klass, make):
    other = make.unit("class", make.unit("school", "00694", name="Trường Tiểu học Bắc Mê"),
                      code="ROS-T-1")
    rows = students(3)
    import_roster(None, "ROS-T-1", "t.csv", excel_csv(rows).replace("Lớp 6A".encode(), b""),
                  dry_run=False)
    admin = make.person(Role.UNIT_ADMIN, klass[1])
    report = import_roster(admin, "ROS-S", "s.csv", excel_csv(rows), dry_run=True)
    assert {p["message"] for p in report.problems} == {
        report.problems[0]["message"]} and len(report.problems) == 3
    assert "Bắc Mê" not in report.problems[0]["message"]  # not in this admin's scope
    assert other.code == "ROS-T-1"


def test_linking_is_by_keyed_id_and_survives_nfd_names(klass, db, make):
    name, pid, born = students(1)[0]
    nfd = unicodedata.normalize("NFD", name)
    csv = f"{HEADER}\n1;{nfd};{pid};{born:%d/%m/%Y};Lớp 6A\n".encode()
    import_roster(None, "ROS-S", "n.csv", csv, dry_run=False)
    stored = db.execute(select(RosterEntry)).scalar_one()
    assert stored.full_name == unicodedata.normalize("NFC", name)
    namesake = make.user(name)  # same name, no ID: never linked
    service.link_user(namesake, None)
    assert stored.user_id is None
    person = make.user(unicodedata.normalize("NFC", name), personal_id=pid, birth_on=born)
    service.link_user(person, hash_personal_id(pid))
    assert stored.user_id == person.id


def test_import_is_idempotent_and_scoped(klass, db, make):
    rows = students(5)
    for _ in range(2):
        import_roster(None, "ROS-S", "i.csv", excel_csv(rows), dry_run=False,
                      idempotency_key="import-key-1")
    assert db.execute(select(func.count()).select_from(RosterImport)).scalar_one() == 1
    outsider = make.person(Role.UNIT_ADMIN, make.unit("school", "00694"))
    with pytest.raises(NotFound):
        import_roster(outsider, "ROS-S", "i.csv", excel_csv(rows), dry_run=True)


def test_exemption_leaves_the_denominator(klass, db, make):
    import_roster(None, "ROS-S", "e.csv", excel_csv(students(3)), dry_run=False)
    admin = make.person(Role.UNIT_ADMIN, klass[1])
    entry = db.execute(select(RosterEntry)).scalars().first()
    service.exempt(admin, entry.id, ExemptReason.LONG_ILLNESS, "nghỉ ốm dài ngày")
    assert entries(db, status=EntryStatus.ACTIVE) == 2
    outsider = make.person(Role.UNIT_ADMIN, make.unit("school", "00694"))
    with pytest.raises(NotFound):
        service.exempt(outsider, entry.id, ExemptReason.OTHER, None)


def test_cli_lists_every_bad_line(app, klass, tmp_path):
    path = tmp_path / "lop.csv"
    path.write_bytes(excel_csv(students(), bad_line=17))
    result = app.test_cli_runner().invoke(args=["rosters", "import", "ROS-S", str(path)])
    assert result.exit_code == 1
    assert "line 17: birth_date:" in result.stderr and "nothing was written" in result.stderr


def test_class_completion_counts_against_the_roster(klass, db, make, tmp_path):
    """The figures the roster page shows (enrollment.reports.figures, counted against the
    assignment's roster; docs/figures.md)."""
    from courses.models import Audience
    from courses.service import import_package
    from enrollment import service as learning
    from enrollment.assignments.service import create_assignment
    from enrollment.reports.figures import unit_figures
    from lms.units.queries import find_unit_by_code
    from tests.courses.package_factory import write_package

    import_package(write_package(tmp_path / "pkg"))
    create_assignment(make.person(Role.OFFICER, find_unit_by_code("00691")), "00691",
                      ["TEST-ATGT"], Audience.STUDENTS, date(2026, 9, 5), date(2026, 12, 31))
    rows = students()
    import_roster(None, "ROS-S", "lop.csv", excel_csv(rows), dry_run=False)

    def counted(unit):
        figures = unit_figures(unit, date(2026, 10, 1), ["TEST-ATGT"]).figures
        return figures.expected, figures.completed

    assert counted(klass[0]) == counted(klass[1]) == (35, 0)
    for name, pid, _born in rows[:3]:  # three students sign in (linked by ID) and pass
        user = make.person(Role.LEARNER, klass[0], name=name)
        user.personal_id_hash = hash_personal_id(pid)
        service.link_user(user, user.personal_id_hash)
        learning._complete(learning.enroll(user, "TEST-ATGT"))
    assert counted(klass[0]) == (35, 3)
    linked = select(RosterEntry).where(RosterEntry.user_id.is_not(None))
    entry = db.execute(linked).scalars().first()
    # an exempt person leaves the denominator (through the service, which keeps the counters)
    service.exempt(make.person(Role.UNIT_ADMIN, klass[1]), entry.id, ExemptReason.DUPLICATE,
                   None)
    assert counted(klass[0]) == counted(klass[1]) == (34, 2)
