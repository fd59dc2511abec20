"""`units import` (DESIGN.md: validate every line, then write all or nothing): the service, the
CLI, the API and the HTML form, each with the hostile files next to the good ones."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from lms.db import session
from lms.errors import ValidationFailed
from lms.units import importer
from lms.units.models import MAX_DEPTH, Unit, UnitKind
from tests.support.factories import csrf_headers, login

HEADER = "STT,Mã đơn vị,Tên đơn vị,Loại,Mã đơn vị cha"
LONG_NAME = "Trường " + "x" * 293  # 300 characters


def table(*lines: str) -> bytes:
    """A units CSV: the header on line 1, then `lines` on lines 2, 3 ... each after an STT."""
    return "\n".join([HEADER, *(f"{n},{line}" for n, line in enumerate(lines, 1))]).encode()


def xlsx(*records) -> bytes:
    book = Workbook()
    for record in records:
        book.active.append(list(record))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(data: bytes, *, dry_run: bool = False, filename: str = "units.csv"):
    """As the system (actor None, as the CLI); the API tests cover signed-in actors."""
    return importer.import_units(None, filename, io.BytesIO(data), dry_run=dry_run)


def refused(data: bytes, **kwargs) -> list[tuple]:
    with pytest.raises(ValidationFailed) as caught:
        run(data, **kwargs)
    assert caught.value.message == "The file was refused; nothing was written."
    return [(p["line"], p["column"], p["message"]) for p in caught.value.errors["lines"]]


def unit_count() -> int:
    return session.execute(select(func.count()).select_from(Unit)).scalar_one()


def unit(code: str) -> Unit | None:
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()


@pytest.fixture
def en(app, db):
    """Messages are gettext'd: English, inside a request as every caller but the CLI has."""
    with app.test_request_context("/?lang=en"):
        yield


ACCEPTANCE = table("S-OK,Trường Ánh Dương,trường,00070",
                   "C-1,Lớp 1A,lớp,NOPE",
                   "S-OK,Trường Ánh Dương bis,trường,00070",
                   f"S-LONG,{LONG_NAME},trường,00070")
ACCEPTANCE_PROBLEMS = [
    (3, "parent_code", "Parent unit NOPE does not exist."),
    (4, "code", "Duplicate code S-OK (also on line 2)."),
    (5, "name", "The name has 300 characters; at most 200."),
]


# --- the service ----------------------------------------------------------------------------

def test_acceptance_every_bad_line_is_reported_and_nothing_is_written(en):
    before = unit_count()
    assert refused(ACCEPTANCE) == ACCEPTANCE_PROBLEMS
    report = run(ACCEPTANCE, dry_run=True)
    assert (report.valid, report.rows, report.created) == (False, 4, 0)
    assert [(p["line"], p["column"], p["message"]) for p in report.problems] == \
        ACCEPTANCE_PROBLEMS
    assert unit_count() == before
    assert unit("S-OK") is None


def test_a_school_with_classes_listed_before_it_and_an_agency_tree(en):
    before = unit_count()
    data = table("IMP-1A,Lớp 1A,lớp,IMP-S", "IMP-1B,Lớp 1B,Lớp học,IMP-S",
                 "IMP-S,Trường Tiểu học Hoàn Kiếm,Trường,00070",
                 "IMP-AG,Sở Nội vụ,cơ quan,01", "IMP-D1,Văn phòng,phòng ban,IMP-AG",
                 "IMP-D2,Tổ văn thư,PHÒNG,IMP-D1")
    report = run(data)
    assert (report.valid, report.rows, report.created, report.updated, report.unchanged) == \
        (True, 6, 6, 0, 0)
    assert unit_count() == before + 6
    school, class_b, dept = unit("IMP-S"), unit("IMP-1B"), unit("IMP-D2")
    assert (school.kind, school.path, school.depth) == (
        UnitKind.SCHOOL, "/BGDDT/01/00070/IMP-S/", 3)
    assert (class_b.kind, class_b.parent_id, class_b.path) == (
        UnitKind.CLASS, school.id, "/BGDDT/01/00070/IMP-S/IMP-1B/")
    assert (dept.kind, dept.path) == (UnitKind.DEPARTMENT, "/BGDDT/01/IMP-AG/IMP-D1/IMP-D2/")

    again = run(data)  # the same file twice: nothing new
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    renamed = run(data.replace("Lớp 1B".encode(), "Lớp 1B (chiều)".encode()))
    assert (renamed.created, renamed.updated, renamed.unchanged) == (0, 1, 5)
    assert unit("IMP-1B").name == "Lớp 1B (chiều)"
    assert unit_count() == before + 6


def test_a_valid_dry_run_counts_but_writes_nothing(en):
    before = unit_count()
    report = run(table("DRY-S,Trường A,school,00070", "DRY-C,Lớp 1,class,DRY-S"), dry_run=True)
    assert (report.valid, report.dry_run, report.created) == (True, True, 2)
    assert unit_count() == before
    assert unit("DRY-S") is None


def test_names_are_stored_nfc_with_spaces_collapsed(en):
    nfd = unicodedata.normalize("NFD", "Trường  Mầm non  Ánh Dương")
    run(table(f"NFC-S,  {nfd} ,trường,00070"))
    assert unit("NFC-S").name == "Trường Mầm non Ánh Dương"
    assert unicodedata.is_normalized("NFC", unit("NFC-S").name)


def test_placement_rules_and_official_kinds(en, make):
    make.unit("school", "00070", code="OLD-S")
    problems = refused(table(
        "BAD-C,Lớp 1,lớp,00070",           # a class directly under a commune
        "BAD-S,Trường,school,OLD-S",       # a school under a school
        "NEW-C,Lớp 2,class,OLD-S",
        "BAD-C2,Nhóm,class,NEW-C",         # a class under a class defined in the file
        "P-1,Tỉnh mới,province,BGDDT", "X-1,Xã mới,Commune,01", "M-1,Bộ,ministry,BGDDT",
    ))
    assert [(line, column) for line, column, _ in problems] == [
        (2, "kind"), (3, "kind"), (5, "kind"), (6, "kind"), (7, "kind"), (8, "kind")]
    # the placement reasons (lms/units/service.py) name the type, then the parent's type
    for (*_, message), pattern in zip(problems, ["class.+commune", "school.+school",
                                                 "class.+class"], strict=False):
        assert re.search(pattern, message), message
    assert {m for *_, m in problems[3:]} == {
        "Provinces and communes come only from the official list."}


def test_a_code_already_used_elsewhere_is_refused(en, make):
    make.unit("school", "00070", code="TAKEN")
    assert refused(table("TAKEN,Trường khác,school,00073",   # same code, other parent
                         "TAKEN2,Lớp,class,TAKEN",
                         "00070,Trường,school,01")) == [    # an official code
        (2, "code", "This code is already used by another unit."),
        (4, "code", "This code is already used by another unit."),
    ]


def test_parent_cycles_are_refused(en):
    assert refused(table("CY-A,Phòng A,department,CY-B", "CY-B,Phòng B,department,CY-A",
                         "CY-C,Phòng C,department,CY-C")) == [
        (2, "parent_code", "The parent codes form a cycle."),
        (3, "parent_code", "The parent codes form a cycle."),
        (4, "parent_code", "The parent codes form a cycle."),
    ]


def test_every_column_of_a_bad_line_is_reported(en):
    assert refused(table("a b,,loài lạ,")) == [
        (2, "code", "Use 1-40 letters, digits, '.', '_' or '-'."),
        (2, "kind", "Unknown unit type “loài lạ”."),
        (2, "name", "The name is required."),
        (2, "parent_code", "The parent unit code is required."),
    ]


def test_a_child_of_a_refused_line_points_at_that_line(en):
    assert refused(table(f"PR-S,{LONG_NAME},school,00070", "PR-C,Lớp 1,class,PR-S")) == [
        (2, "name", "The name has 300 characters; at most 200."),
        (3, "parent_code", "Parent unit PR-S is on line 2, which has problems."),
    ]


def test_the_tree_may_not_grow_deeper_than_the_limit(en):
    # BGDDT is depth 0, the agency 1, department n is n + 1: the last one would be too deep
    chain = ["DP-0,Cơ quan,agency,BGDDT"] + [
        f"DP-{n},Phòng {n},department,DP-{n - 1}" for n in range(1, MAX_DEPTH + 1)]
    ((line, column, message),) = refused(table(*chain))
    assert (line, column) == (len(chain) + 1, "kind")
    assert str(MAX_DEPTH) in message
    assert run(table(*chain[:-1])).created == MAX_DEPTH
    assert unit(f"DP-{MAX_DEPTH - 1}").depth == MAX_DEPTH


def test_xlsx_with_vietnamese_headers_and_number_cells(en):
    data = xlsx(["STT", "Mã đơn vị", "Tên đơn vị", "Loại", "Mã đơn vị cha"],
                [1, 4711, "Trường Số", "trường", "00070"], [2, 4712, "Lớp 1", "lớp", 4711])
    report = run(data, filename="units.xlsx")
    assert (report.valid, report.created) == (True, 2)
    assert unit("4712").path == "/BGDDT/01/00070/4711/4712/"


# --- hostile files --------------------------------------------------------------------------

def test_formula_looking_cells_are_refused(en):
    before = unit_count()
    assert refused(table("F-1,=1+1,school,00070", "F-2,+84 Trường,school,00070",
                         "F-3,-Trường,school,00070", "F-4,@SUM(A1),school,00070",
                         "=1+1,Trường,school,00070", "F-6,Trường,school,=A1")) == [
        *[(n, "name", "A name may not start with =, +, - or @.") for n in (2, 3, 4, 5)],
        (6, "code", "Use 1-40 letters, digits, '.', '_' or '-'."),
        (7, "parent_code", "Use 1-40 letters, digits, '.', '_' or '-'."),
    ]
    assert unit_count() == before


def test_control_characters_and_oversized_cells_are_refused(en):
    before = unit_count()
    big_parent = "P" * 30_000  # under the reader's cell limit, far over a code's
    problems = refused(table("NUL-S,Trường\x00A,school,00070", f"BIG-S,Trường,school,{big_parent}",
                             "OK-S,Trường,school,00070"))
    assert problems == [(2, "name", "The name contains control characters."),
                        (3, "parent_code", "Use 1-40 letters, digits, '.', '_' or '-'.")]
    with pytest.raises(ValidationFailed) as caught:
        run(table("MB-S," + "x" * 10_000_000 + ",school,00070"))
    assert caught.value.errors["file"][0].startswith("Line 2 cannot be read")
    assert unit_count() == before


def test_too_many_rows_are_refused(en, app, monkeypatch):
    monkeypatch.setitem(app.config, "UNIT_IMPORT_MAX_ROWS", 2)
    lines = [f"MAX-{n},Trường {n},school,00070" for n in range(3)]
    assert run(table(*lines[:2]), dry_run=True).valid
    with pytest.raises(ValidationFailed) as caught:
        run(table(*lines), dry_run=True)
    assert caught.value.errors == {"file": ["The file has more than 2 rows; split it."]}


def test_a_bomb_like_xlsx_is_refused_and_nothing_written(en):
    out = io.BytesIO(xlsx(["Mã", "Tên", "Loại", "Mã đơn vị cha"], ["Z-S", "Trường", "school",
                                                                  "00070"]))
    with zipfile.ZipFile(out, "a") as archive:
        for n in range(1000):
            archive.writestr(f"xl/media/{n}.bin", b"")
    before = unit_count()
    with pytest.raises(ValidationFailed) as caught:
        run(out.getvalue(), filename="units.xlsx")
    assert caught.value.errors == {"file": ["The XLSX file is too large once unpacked."]}
    assert unit_count() == before


# --- CLI ------------------------------------------------------------------------------------

def test_cli_refuses_a_bad_file_line_by_line_and_writes_nothing(en, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(ACCEPTANCE)
    before = unit_count()
    result = app.test_cli_runner().invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        *(f"line {line}: {column}: {message}" for line, column, message in ACCEPTANCE_PROBLEMS),
        "refused: 3 problem(s); nothing was written"]
    assert unit_count() == before
    result = app.test_cli_runner().invoke(args=["units", "import", "--dry-run", str(path)])
    assert result.exit_code == 1
    assert "line 5: name: The name has 300 characters; at most 200." in result.stderr


def test_cli_file_level_problem(en, app, tmp_path):
    path = tmp_path / "units.xlsx"
    path.write_bytes(b"code,name\n")
    result = app.test_cli_runner().invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1
    assert "line -: file: The file is not a readable XLSX workbook." in result.stderr


def test_cli_lists_problems_outside_any_request(app, db, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(ACCEPTANCE)
    result = app.test_cli_runner().invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1
    assert "line 4: code: " in result.stderr, result.exception


def test_cli_dry_run_then_import_as_the_system(app, db, tmp_path):
    """No request and no signed-in user: the CLI acts as the system, allowed everywhere."""
    path = tmp_path / "units.csv"
    path.write_bytes(table("CLI-C,Lớp 1,lớp,CLI-S", "CLI-S,Trường CLI,trường,00070"))
    before = unit_count()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["units", "import", str(path), "--dry-run"])
    assert (result.exit_code, result.stdout) == (
        0, "2 rows: 2 would be created, 0 would be updated, 0 unchanged\n")
    assert unit_count() == before
    result = runner.invoke(args=["units", "import", str(path)])
    assert (result.exit_code, result.stdout) == (
        0, "2 rows: 2 were created, 0 were updated, 0 unchanged\n")
    assert unit_count() == before + 2
    assert unit("CLI-C").path == "/BGDDT/01/00070/CLI-S/CLI-C/"


# --- API ------------------------------------------------------------------------------------

def post_api(client, data: bytes, query: str = "?dry_run=false", headers=None,
             filename: str = "units.csv"):
    client.set_cookie("lang", "en")
    return client.post(f"/api/v1/units/import{query}", headers=headers,
                       data={"file": (io.BytesIO(data), filename)})


def test_api_requires_a_signed_in_user(client):
    before = unit_count()
    response = post_api(client, table("AN-S,Trường,school,00070"),
                        headers=csrf_headers(client))
    assert response.status_code == 401
    assert response.get_json() == {"code": "unauthorized", "status": 401,
                                   "message": "Please sign in to continue."}
    assert unit_count() == before


def test_api_requires_the_csrf_header(client, make):
    login(client, make.person("unit_admin", make.unit("school", "00070")))
    before = unit_count()
    response = post_api(client, table("CS-S,Trường,school,00070"))
    assert response.status_code == 400
    assert response.get_json()["code"] == "bad_request"
    assert unit_count() == before


def test_api_unit_admin_may_import_under_their_school_only(client, make):
    school_a, school_b = make.unit("school", "00070"), make.unit("school", "00073")
    login(client, make.person("unit_admin", school_a))
    headers = csrf_headers(client)
    before = unit_count()
    response = post_api(client, table(f"UA-1,Lớp 1A,lớp,{school_a.code}",
                                      f"UA-2,Lớp 1B,lớp,{school_b.code}",
                                      "UA-3,Trường mới,trường,00070"), headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body == {"code": "validation_failed", "status": 422,
                    "message": "The file was refused; nothing was written.",
                    "errors": {"lines": [
                        {"line": 3, "column": "parent_code",
                         "message": f"Parent unit {school_b.code} does not exist."},
                        {"line": 4, "column": "parent_code",
                         "message": "You may not add units under 00070."}]}}
    assert unit_count() == before
    response = post_api(client, table(f"UA-1,Lớp 1A,lớp,{school_a.code}"), headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"dry_run": False, "valid": True, "rows": 1, "created": 1,
                                   "updated": 0, "unchanged": 0, "problems": []}
    assert unit("UA-1").path == f"{school_a.path}UA-1/"


def test_api_commune_officer_imports_schools_under_their_commune(client, make):
    login(client, make.person("officer", unit("00070")))
    headers = csrf_headers(client)
    before = unit_count()
    data = table("OF-C,Lớp 1,lớp,OF-S", "OF-S,Trường,trường,00070", "OF-X,Trường,trường,00073")
    response = post_api(client, data, "?dry_run=true", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["problems"] == [
        {"line": 4, "column": "parent_code", "message": "You may not add units under 00073."}]
    assert response.get_json()["valid"] is False
    response = post_api(client, data.rsplit(b"\n", 1)[0], "", headers=headers)  # default: dry
    assert response.get_json()["dry_run"] is True
    assert unit_count() == before
    response = post_api(client, data.rsplit(b"\n", 1)[0], headers=headers)
    assert (response.status_code, response.get_json()["created"]) == (200, 2)
    assert unit_count() == before + 2


def test_api_refuses_an_unreadable_file_in_the_error_shape(client, make):
    login(client, make.person("officer", unit("00070")))
    response = post_api(client, b"PK\x03\x04broken", headers=csrf_headers(client),
                        filename="units.xlsx")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "file": ["The file is not a readable XLSX workbook."]}


# --- HTML form ------------------------------------------------------------------------------

def post_form(client, code: str, data: bytes, action: str, filename: str = "units.csv"):
    client.set_cookie("lang", "en")
    return client.post(f"/units/{code}/import", headers=csrf_headers(client), data={
        "action": action, "file": (io.BytesIO(data), filename)})


def test_form_shows_the_problems_and_never_writes_a_refused_file(client, make):
    login(client, make.person("officer", unit("00070")))
    before = unit_count()
    for action, status in (("check", 200), ("import", 422)):
        response = post_form(client, "00070", ACCEPTANCE, action)
        page = response.get_data(as_text=True)
        assert response.status_code == status
        assert "nothing was written" in page
        for line, _column, message in ACCEPTANCE_PROBLEMS:  # the column may be labelled
            assert re.search(f"<td>{line}</td><td>[^<]+</td><td>{re.escape(message)}</td>",
                             page), message
    response = post_form(client, "00070", ACCEPTANCE, "import", filename="units.xlsx")
    assert response.status_code == 422
    assert "The file is not a readable XLSX workbook." in response.get_data(as_text=True)
    assert unit_count() == before


def test_form_checks_then_imports_a_valid_file(client, make):
    login(client, make.person("officer", unit("00070")))
    before = unit_count()
    data = table("HF-C,Lớp 1,lớp,HF-S", "HF-S,Trường,trường,00070")
    response = post_form(client, "00070", data, "check")
    assert "2 to create, 0 to update, 0 unchanged" in response.get_data(as_text=True)
    assert unit_count() == before
    response = post_form(client, "00070", data, "import")
    assert response.status_code == 200
    assert "Imported: 2 created, 0 updated, 0 unchanged." in response.get_data(as_text=True)
    assert unit_count() == before + 2
