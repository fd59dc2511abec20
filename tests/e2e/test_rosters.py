"""A school's roster end to end: the school's unit admin, signed in for real (VNeID level 2 at
the dev provider), uploads an Excel-style class roster with one bad birth date. The report names
that line and nothing is written; the problems come back as a CSV Excel opens (UTF-8 BOM). The
fixed file checks clean, is saved with one click, and the roster page then lists the 35 people
with masked personal IDs only."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Response, expect

from lms.demo.names import random_name
from lms.demo.people import synthetic_personal_id

SCHOOL = "DEMO-08-S01"
HEADER = "STT;Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"
BAD_LINE = 17
BOM = b"\xef\xbb\xbf"
TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def students(n: int = 35) -> list[tuple[str, str, date]]:
    """Synthetic people whose IDs (prefix 001, serials from 700001) the demo never uses."""
    rng = random.Random(20250817)
    out = []
    for i in range(1, n + 1):
        female = i % 2 == 0
        born = date(2012, 1 + i % 12, 1 + i % 27)
        out.append((random_name(rng, female),
                    synthetic_personal_id(rng, "001", born, female, 700_000 + i), born))
    return out


def excel_csv(rows: list[tuple[str, str, date]], klass: str, bad_line: int | None = None) -> bytes:
    """What Excel writes for "CSV UTF-8" with a Vietnamese locale: BOM, ';', CRLF."""
    lines = [HEADER]
    for n, (name, pid, born) in enumerate(rows, start=1):
        when = "31/02/2012" if n + 1 == bad_line else born.strftime("%d/%m/%Y")
        lines.append(f"{n};{name};{pid};{when};{klass}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def school_class(live_server) -> tuple[int, str]:
    """(id, name) of a class of the school whose name no sibling shares."""
    rows = live_server.rows(
        "SELECT c.id, c.name FROM units c JOIN units s ON s.id = c.parent_id"
        " WHERE s.code = ? AND c.kind = 'class' AND (SELECT count(*) FROM units o"
        " WHERE o.parent_id = c.parent_id AND lower(o.name) = lower(c.name)) = 1"
        " ORDER BY c.code LIMIT 1", SCHOOL)
    assert rows, f"the demo data has no class under {SCHOOL}"
    return rows[0]


def entries_of_school(live_server) -> int:
    return live_server.value(
        "SELECT count(*) FROM roster_entries r JOIN units n ON n.id = r.roster_unit_id"
        " WHERE n.code = ?", SCHOOL)


def imports_of_school(live_server) -> int:
    return live_server.value(
        "SELECT count(*) FROM roster_imports r JOIN units n ON n.id = r.unit_id"
        " WHERE n.code = ?", SCHOOL)


def entries_masked(live_server, pids: list[str]) -> list[tuple]:
    """(name, masked ID, birth date, status, class id, ID hash) of the school's roster entries
    whose masked ID is that of one of pids."""
    wanted = {f"{p[:4]}****{p[-4:]}" for p in pids}
    return [row for row in live_server.rows(
        "SELECT r.full_name, r.personal_id_masked, r.birth_on, r.status, r.unit_id,"
        " r.personal_id_hash FROM roster_entries r JOIN units n ON n.id = r.roster_unit_id"
        " WHERE n.code = ?", SCHOOL) if row[1] in wanted]


def check_file(page: Page, path: Path) -> Response:
    """Choose the file on the roster page and press #roster-check."""
    page.locator("#roster-file").set_input_files(path)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#roster-check").click()
    page.wait_for_load_state()
    return posted.value


def problems(page: Page) -> list[tuple[str, str, str]]:
    rows = page.locator("main table tbody tr")
    found = []
    for i in range(rows.count()):
        line, column, reason = (t.strip() for t in rows.nth(i).locator("td").all_inner_texts())
        assert reason, f"line {line} has no reason"
        found.append((line, column, reason))
    return found


def test_roster_with_a_bad_date_then_fixed_and_saved(page: Page, live_server, vneid, tmp_path,
                                                     console_errors):
    admin = live_server.citizen("unit_admin", SCHOOL)
    class_id, class_name = school_class(live_server)
    people = students()
    pids = [pid for _, pid, _ in people]
    assert entries_masked(live_server, pids) == [], "the synthetic IDs collide with the demo's"

    page.goto(f"/auth/login?level=2&next=/units/{SCHOOL}/roster")
    assert vneid(page, admin, level=2).status == 303
    assert path_of(page) == f"/units/{SCHOOL}/roster"
    expect(page.locator("header.site .who")).to_have_text(admin.full_name)
    expect(page.locator("label[for='roster-file']")).to_be_visible()
    before, imports_before = entries_of_school(live_server), imports_of_school(live_server)

    # One bad birth date on line 17 (31/02): the report names that line, nothing is written.
    bad = tmp_path / "lop-bad.csv"
    bad.write_bytes(excel_csv(people, class_name, bad_line=BAD_LINE))
    checked = check_file(page, bad)
    assert checked.status == 422
    assert path_of(page) == f"/units/{SCHOOL}/roster/check"
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#roster-import")).to_have_count(0)
    found = problems(page)
    assert [(line, column) for line, column, _ in found] == [(str(BAD_LINE), "Ngày sinh")], found
    assert entries_of_school(live_server) == before
    assert imports_of_school(live_server) == imports_before

    # The problems as CSV: a download that Excel opens as UTF-8 and that names line 17.
    with page.expect_download() as downloading:
        page.locator("#problems-csv").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".csv")
    body = Path(download.path()).read_bytes()
    assert body.startswith(BOM), body[:20]
    lines = body[len(BOM):].decode("utf-8").splitlines()
    assert len(lines) == 2, lines  # the header and the one problem
    assert lines[1].split(",")[0] == str(BAD_LINE), lines
    assert "Ngày sinh" in lines[1]
    assert entries_of_school(live_server) == before

    # The fixed file: every line valid, saved with one click.
    page.goto(f"/units/{SCHOOL}/roster")
    good = tmp_path / "lop.csv"
    good.write_bytes(excel_csv(people, class_name))
    checked = check_file(page, good)
    assert checked.status == 200
    expect(page.get_by_role("alert")).to_have_count(0)
    status = page.locator("p.flash.success[role='status']")
    expect(status).to_be_visible()
    assert re.search(r"\b35\b", status.inner_text()), status.inner_text()
    assert entries_of_school(live_server) == before  # checking writes nothing
    assert TWELVE_DIGITS.search(page.content()) is None

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#roster-import").click()
    assert posted.value.status == 303
    page.wait_for_url(lambda url: urlsplit(url).path == f"/units/{SCHOOL}/roster")
    page.wait_for_load_state()
    expect(page.locator("p.flash.success[role='status']")).to_be_visible()

    # The page lists the 35 with masked IDs; no full personal ID anywhere in its HTML.
    html = page.content()
    assert TWELVE_DIGITS.search(html) is None, TWELVE_DIGITS.search(html)
    table = page.locator("section[aria-labelledby='people-h'] table tbody tr")
    shown = {tuple(t.strip() for t in table.nth(i).locator("td").all_inner_texts()[:3])
             for i in range(table.count())}
    for name, pid, _ in people:
        assert pid not in html
        assert any(row[0] == name and row[1] == f"{pid[:4]}****{pid[-4:]}" for row in shown), (
            name, pid[:4])

    # …and the database has them, on the class, active, hashed and masked.
    assert imports_of_school(live_server) == imports_before + 1
    saved = entries_masked(live_server, pids)
    assert len(saved) == 35
    assert entries_of_school(live_server) == before + 35
    by_masked = {row[1]: row for row in saved}
    for name, pid, born in people:
        row = by_masked[f"{pid[:4]}****{pid[-4:]}"]
        assert row[0] == name and row[2] == born.isoformat()
        assert str(row[3]).lower() == "active" and row[4] == class_id
        assert row[5] and pid not in row[5]
    dump = "\n".join(str(r) for r in live_server.rows("SELECT * FROM roster_entries"))
    assert not any(pid in dump for pid in pids)
    # The refused check answers 422 on purpose; Chromium logs that as a failed resource.
    assert [e for e in console_errors if "status of 422" not in e] == []
