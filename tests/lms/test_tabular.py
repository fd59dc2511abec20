"""lms.tabular.read_table: encodings, separators, headers, line numbers, XLSX, and files that
are broken or hostile (each must end in ValidationFailed naming the problem, never a crash)."""

from __future__ import annotations

import codecs
import io
import itertools
import re
import struct
import unicodedata
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from lms import tabular
from lms.errors import ValidationFailed
from lms.tabular import canonical_header, read_table
from lms.units.importer import SYNONYMS as UNIT_SYNONYMS

SYNONYMS = {"code": {"mã", "mã đơn vị"}, "name": {"tên", "tên đơn vị"}}
NAME = "Trường THCS Đống Đa"


@pytest.fixture(autouse=True)
def _request(app):
    """Messages are gettext'd: English, in a request (as every caller has one)."""
    with app.test_request_context("/?lang=en"):
        yield


def rows(data: bytes, filename: str = "units.csv", synonyms=None, required=None):
    synonyms = synonyms or SYNONYMS
    required = set(synonyms) if required is None else required
    return [(r.line, r.values) for r in read_table(filename, io.BytesIO(data), synonyms,
                                                  required)]


def refusal(data: bytes, filename: str = "units.csv", **kwargs) -> str:
    with pytest.raises(ValidationFailed) as caught:
        rows(data, filename, **kwargs)
    assert caught.value.status == 422
    (message,) = caught.value.errors["file"]
    return message


def xlsx(*records) -> bytes:
    book = Workbook()
    for record in records:
        book.active.append(list(record))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(data: bytes, edit) -> bytes:
    """A copy of the archive with edit(name, content) applied to every entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)),
                         zipfile.ZIP_DEFLATED)
    return out.getvalue()


def edit_sheet(data: bytes, change) -> bytes:
    return rezip(data, lambda name, content: change(content)
                 if name == "xl/worksheets/sheet1.xml" else content)


# --- encodings, separators, line ends ------------------------------------------------------

ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: text.encode("utf-8-sig"),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_text_encodings_separators_and_line_ends(encoding, sep, eol):
    # the other two separators inside a quoted cell must stay in the value
    other = "".join(s for s in ",;\t" if s != sep)
    text = eol.join([f"Mã{sep}Tên", f"A1{sep}{NAME}", f'B2{sep}"Lớp 1{other}A"', ""])
    assert rows(ENCODINGS[encoding](text)) == [
        (2, {"code": "A1", "name": NAME}), (3, {"code": "B2", "name": f"Lớp 1{other}A"})]


def test_excel_unicode_text_is_utf16_le_tab_crlf():
    text = ("STT\tMã đơn vị\tTên đơn vị\tLoại\tMã đơn vị cha\r\n"
            "1\tS1\tTrường Ánh Dương\ttrường\t00070\r\n")
    data = text.encode("utf-16")  # what Excel's "Unicode text" writes: a BOM, then UTF-16 LE
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert rows(data, "units.txt", UNIT_SYNONYMS) == [(2, {
        "code": "S1", "name": "Trường Ánh Dương", "kind": "trường", "parent_code": "00070"})]


def test_separator_is_found_after_leading_blank_lines():
    assert rows(b"\n\r\nm\xc3\xa3;t\xc3\xaan\nA;B\n") == [(4, {"code": "A", "name": "B"})]


def test_text_that_is_not_utf8_is_refused_clearly():
    data = "Mã,Tên\nĐ1,Ê Đê\n".encode("cp1258", errors="replace")  # Windows Vietnamese
    assert b"\xd0" in data
    message = refusal(data)
    assert "not UTF-8 or UTF-16" in message
    assert "CSV UTF-8" in message


def test_truncated_utf16_is_refused_not_a_crash():
    data = "Mã\tTên\r\nA\tB\r\n".encode("utf-16")[:-1]  # odd number of bytes
    assert "not UTF-8 or UTF-16" in refusal(data)


# --- headers ---------------------------------------------------------------------------------

def test_canonical_header_ignores_case_spaces_and_normal_form():
    nfd = unicodedata.normalize("NFD", "  MÃ   ĐƠN VỊ CHA ")
    assert nfd != unicodedata.normalize("NFC", nfd)
    assert canonical_header(nfd) == canonical_header("mã đơn vị cha") == "mã đơn vị cha"
    assert canonical_header("Mã đơn vị") != canonical_header("Mã đơn vị cha")


def test_vietnamese_headers_in_nfd_map_to_columns_and_stt_is_ignored():
    header = unicodedata.normalize("NFD", "STT, MÃ ĐƠN VỊ ,tên đơn vị,LOẠI,Mã Đơn Vị Cha,Ghi chú")
    data = f"{header}\n1,S1,Trường A,trường,00070,không\n".encode()
    assert rows(data, synonyms=UNIT_SYNONYMS) == [(2, {
        "code": "S1", "name": "Trường A", "kind": "trường", "parent_code": "00070"})]


def test_english_column_names_and_first_of_two_same_columns_win():
    assert rows(b"CODE,Name,code\nA,B,C\n") == [(2, {"code": "A", "name": "B"})]


def test_missing_required_column_names_it_and_the_header_line():
    message = refusal("\nMã đơn vị,Loại\nA,trường\n".encode(), synonyms=UNIT_SYNONYMS)
    assert message == "Line 2: missing column(s): name, parent_code"


def test_optional_column_may_be_absent():
    assert rows(b"code\nA\n", required={"code"}) == [(2, {"code": "A"})]


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, b"\n\r\n,,\n  \t \n",
                                  codecs.BOM_UTF16_LE])
def test_empty_file_is_refused(data):
    assert refusal(data) == "The file is empty."


# --- rows and line numbers ------------------------------------------------------------------

def test_blank_lines_are_skipped_and_lines_count_like_a_person():
    data = b"\ncode,name\n\nA,One\n,\n  ,  \nB,Two\n\n"
    assert rows(data) == [(4, {"code": "A", "name": "One"}), (7, {"code": "B", "name": "Two"})]


def test_a_record_reports_the_line_where_it_starts():
    data = b'code,name\nA,"first\nsecond\nthird"\nB,plain\nC,"x\r\ny"\nD,z\n'
    assert rows(data) == [
        (2, {"code": "A", "name": "first\nsecond\nthird"}),
        (5, {"code": "B", "name": "plain"}),
        (6, {"code": "C", "name": "x\r\ny"}),
        (8, {"code": "D", "name": "z"}),
    ]


def test_short_rows_are_padded_and_long_rows_cut_and_cells_trimmed():
    assert rows(b"code,name\n  A  \nB, Two ,extra,more\n") == [
        (2, {"code": "A", "name": ""}), (3, {"code": "B", "name": "Two"})]


def test_formula_looking_text_is_returned_as_written_never_evaluated():
    assert rows(b"code,name\n=1+1,@SUM(A1)\n") == [(2, {"code": "=1+1", "name": "@SUM(A1)"})]


# --- hostile text ---------------------------------------------------------------------------

def test_ten_megabyte_cell_is_refused_with_its_line():
    data = b"code,name\nA,ok\nB," + b"x" * (10 * 1024 * 1024) + b"\n"
    message = refusal(data)
    assert message.startswith("Line 3 cannot be read")
    assert len(message) < 200


def test_cell_longer_than_excel_allows_is_refused():
    message = refusal(b"code,name\nA," + b"y" * 40_000 + b"\n")
    assert message == "Line 2, column name: a cell may hold at most 32767 characters."


def test_unclosed_quote_swallows_the_rest_into_one_reported_cell():
    assert rows(b'code,name\nA,"open\nB,two\n') == [(2, {"code": "A", "name": "open\nB,two"})]


# --- XLSX -----------------------------------------------------------------------------------

def test_xlsx_numbers_dates_blank_rows_and_line_numbers():
    excel_time = datetime(2025, 7, 1, 8, 30)  # noqa: DTZ001 (a cell has no time zone)
    data = xlsx(["STT", "Mã", "Tên", "Ngày"], [1, 70, NAME, excel_time],
                [None, None, None, None], [2, 3.5, "  Lớp 1A ", date(2024, 9, 5)],
                [3, 4.0, None, None])
    synonyms = {**SYNONYMS, "on": {"ngày"}}
    assert rows(data, "UNITS.XLSX", synonyms, {"code"}) == [
        # whole numbers stay numbers (an ID typed as a number lost its leading zeros)
        (2, {"code": 70, "name": NAME, "on": date(2025, 7, 1)}),
        (4, {"code": "3.5", "name": "Lớp 1A", "on": date(2024, 9, 5)}),
        (5, {"code": 4, "name": "", "on": ""}),
    ]


def test_xlsx_formula_cell_is_neither_evaluated_nor_passed_on():
    # data_only: the value Excel cached, and openpyxl caches none; never the formula text
    assert rows(xlsx(["Mã", "Tên"], ["A", "=1+1"]), "u.xlsx") == [(2, {"code": "A", "name": ""})]


def test_xlsx_with_a_wrong_dimension_is_read_entirely():
    data = edit_sheet(xlsx(["code", "name"], ["A", "One"], ["B", "Two"]),
                      lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1"', xml))
    assert rows(data, "u.xlsx") == [(2, {"code": "A", "name": "One"}),
                                    (3, {"code": "B", "name": "Two"})]


def test_xlsx_with_a_huge_declared_dimension_is_not_padded():
    data = edit_sheet(xlsx(["code", "name"], ["A", "One"]), lambda xml: re.sub(
        rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml))
    records = list(itertools.islice(tabular._xlsx_rows(io.BytesIO(data)), 10))
    assert [r[:2] for _, r in records] == [["code", "name"], ["A", "One"]]
    assert all(len(r) <= tabular.XLSX_MAX_COLUMNS for _, r in records)


def test_xlsx_ten_megabyte_cell_is_refused():
    data = edit_sheet(xlsx(["code", "name"], ["A", "BIG"]),
                      lambda xml: xml.replace(b">BIG<", b">" + b"z" * (10 * 1024 * 1024) + b"<"))
    assert refusal(data, "u.xlsx") == ("Line 2, column name: a cell may hold at most 32767 "
                                       "characters.")


@pytest.mark.parametrize("data", [
    b"code,name\nA,B\n",  # a CSV renamed .xlsx
    b"PK\x03\x04" + b"\0" * 64,  # the start of a zip, then nothing
    b"",
], ids=["csv", "truncated-zip", "empty"])
def test_a_file_that_is_not_xlsx_is_refused(data):
    assert refusal(data, "units.xlsx") == "The file is not a readable XLSX workbook."


@pytest.mark.parametrize("damage", [
    lambda name, content: content[: len(content) // 2] if name.endswith("sheet1.xml") else content,
    lambda name, content: b"<Types" if name == "[Content_Types].xml" else content,
    lambda name, content: content.replace(b"<sheetData>", b"<sheetData><row r='x'>")
    if name.endswith("sheet1.xml") else content,
], ids=["cut-sheet-xml", "bad-content-types", "bad-row-number"])
def test_a_damaged_workbook_is_refused_not_a_crash(damage):
    data = rezip(xlsx(["code", "name"], ["A", "B"]), damage)
    assert refusal(data, "u.xlsx") == "The file is not a readable XLSX workbook."


def test_a_zip_without_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert refusal(out.getvalue(), "u.xlsx") == "The file is not a readable XLSX workbook."


def test_xlsx_with_too_many_entries_is_refused_before_openpyxl_reads_it():
    data = rezip(xlsx(["code", "name"]), lambda name, content: content)
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        for n in range(tabular.XLSX_MAX_ENTRIES):
            archive.writestr(f"xl/media/e{n}.bin", b"")
    assert refusal(out.getvalue(), "u.xlsx") == "The XLSX file is too large once unpacked."


def test_xlsx_too_large_once_unpacked_is_refused(monkeypatch):
    data = xlsx(["code", "name"], ["A", "x" * 5000])
    monkeypatch.setattr(tabular, "XLSX_MAX_UNCOMPRESSED", 10_000)
    assert refusal(data, "u.xlsx") == "The XLSX file is too large once unpacked."


def test_xlsx_whose_entry_lies_about_its_size_is_refused():
    """A bomb declares a small size; zipfile stops there and the read then fails cleanly."""
    data = bytearray(xlsx(["code", "name"], ["A", "B" * 3000]))
    name = b"xl/worksheets/sheet1.xml"
    at = data.index(b"PK\x01\x02")
    while data[at + 46:at + 46 + len(name)] != name:  # walk the central directory
        n, m, k = struct.unpack("<HHH", data[at + 28:at + 34])
        at += 46 + n + m + k
    data[at + 24:at + 28] = struct.pack("<I", 300)  # the declared uncompressed size
    assert refusal(bytes(data), "u.xlsx") == "The file is not a readable XLSX workbook."
