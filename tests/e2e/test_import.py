"""Importing units through the school page: every bad line is listed with its number and
nothing is written (DESIGN.md: validate-all, then write-once); a valid file is written once."""

from __future__ import annotations

import codecs
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

SCHOOL = "DEMO-08-S01"


@pytest.fixture
def admin_page(page: Page, signed_in, login_id) -> Page:
    signed_in(page, login_id("unit_admin", SCHOOL))
    return page


def codes(n: int) -> list[str]:
    stem = uuid.uuid4().hex[:8].upper()
    return [f"E2E-IMP-{stem}-{i}" for i in range(1, n + 1)]


def count_codes(live_server, wanted: list[str]) -> int:
    marks = ",".join("?" * len(wanted))
    return live_server.value(f"SELECT count(*) FROM units WHERE code IN ({marks})", *wanted)  # noqa: S608


def upload(page: Page, path: Path, action: str) -> Response:
    """Choose the file on the school page and press the button whose value is `action`."""
    page.goto(f"/units/{SCHOOL}")
    page.locator("#import-file").set_input_files(path)
    form = page.locator("form[enctype='multipart/form-data']", has=page.locator("#import-file"))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.locator(f"button[value='{action}']").click()
    page.wait_for_load_state()
    return posted.value


def problems(page: Page) -> dict[str, list[str]]:
    """Line number → [column, reason] of each row of the problems table."""
    rows = page.locator("main table tbody tr")
    table = {}
    for i in range(rows.count()):
        line, column, reason = rows.nth(i).locator("td").all_inner_texts()
        assert reason.strip(), f"line {line} has no reason"
        table[line.strip()] = [column.strip(), reason.strip()]
    return table


def test_bad_file_lists_every_bad_line_and_writes_nothing(admin_page: Page, live_server,
                                                         tmp_path, console_errors):
    page = admin_page
    good, under_commune, long_name = codes(3)
    commune = live_server.value(
        "SELECT p.code FROM units s JOIN units p ON p.id = s.parent_id WHERE s.code = ?", SCHOOL)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,type,parent code\n"
        f"{good},Lớp 6B,class,{SCHOOL}\n"
        f"{under_commune},Lớp ở xã,class,{commune}\n"
        f"{long_name},{'Đ' * 300},class,{SCHOOL}\n", encoding="utf-8")
    before = live_server.unit_count()

    checked = upload(page, bad, "check")
    assert checked.status in {200, 422}
    expect(page.get_by_role("alert")).to_be_visible()
    found = problems(page)
    assert set(found) == {"3", "4"}, found
    assert "300" in found["4"][1]  # the reason gives the name's length
    assert live_server.unit_count() == before

    # Pressing "Import" with the same file is refused as a whole: not even line 2 is written.
    refused = upload(page, bad, "import")
    assert refused.status == 422
    assert set(problems(page)) == {"3", "4"}
    assert live_server.unit_count() == before
    assert count_codes(live_server, [good, under_commune, long_name]) == 0
    # The refused import answers 422, which Chromium logs; anything else is a page error.
    assert [e for e in console_errors if "status of 422" not in e] == []


def test_valid_file_is_checked_then_imported_once(admin_page: Page, live_server, tmp_path):
    page = admin_page
    new = codes(2)
    stem = new[0].split("-")[2]
    names = [f"Lớp 6 {stem}", f"Lớp 7 {stem}"]
    # What a spreadsheet saves: Vietnamese headers, a UTF-8 BOM, semicolons, CRLF.
    valid = tmp_path / "valid.csv"
    valid.write_bytes(codecs.BOM_UTF8 + (
        "Mã đơn vị;Tên đơn vị;Loại;Mã đơn vị cha\r\n"
        f"{new[0]};{names[0]};lớp;{SCHOOL}\r\n"
        f"{new[1]};{names[1]};class;{SCHOOL}\r\n").encode())
    before = live_server.unit_count()

    checked = upload(page, valid, "check")
    assert checked.status == 200
    expect(page.get_by_role("status")).to_contain_text("2")
    assert page.locator("main table").count() == 0
    assert live_server.unit_count() == before  # a check writes nothing

    imported = upload(page, valid, "import")
    assert imported.status == 200
    expect(page.get_by_role("status")).to_contain_text("2")
    assert page.locator("main table").count() == 0
    stored = live_server.rows(
        "SELECT c.code, c.name, c.kind, p.code FROM units c JOIN units p ON p.id = c.parent_id"
        " WHERE c.code IN (?, ?) ORDER BY c.code", *new)
    assert stored == [(new[0], names[0], "class", SCHOOL), (new[1], names[1], "class", SCHOOL)]

    page.locator(f"main a[href$='/units/{SCHOOL}']").click()
    page.wait_for_url(f"**/units/{SCHOOL}")
    listed = page.locator("section[aria-labelledby='children-h']")
    for name in names:
        expect(listed.get_by_role("link", name=name, exact=True)).to_be_visible()

    # The same file again changes nothing and creates no second copy.
    again = upload(page, valid, "import")
    assert again.status == 200
    assert live_server.unit_count() == before + 2
    assert count_codes(live_server, new) == 2
