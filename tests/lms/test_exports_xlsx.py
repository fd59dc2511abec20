"""XLSX exports: no formula ever, literal text and real numbers read back with openpyxl,
reproducible bytes, rows streamed rather than held."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from lms.exports import xlsx_bytes, xlsx_write

CREATED = datetime(2026, 6, 5, 8, 30, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.example","x")'
TEXTS = [HOSTILE, "+84912345678", "-2+3", "@SUM(A1)", "\tcmd", "=1+1", "#N/A", "Nguyễn Thị Ánh"]


def sheet_xml(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(n).decode() for n in archive.namelist()
                if n.startswith("xl/worksheets/")]


def test_formula_like_text_stays_text_and_numbers_stay_numbers():
    data = xlsx_bytes([("Danh sách", ["=Họ tên", "Số"], [
        [*TEXTS, 12, 3.5, Decimal("97.3"), None, True],
    ])], created=CREATED)
    for xml in sheet_xml(data):
        assert not re.search(r"<f[ >/]", xml), xml
    row = next(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))
    assert list(row[:len(TEXTS)]) == TEXTS
    assert row[len(TEXTS):] == (12, 3.5, 97.3, None, True)
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "=Họ tên" and ws["A1"].data_type == "s"
    assert all(c.data_type == "s" for c in ws[2][:len(TEXTS)])
    assert ws["A2"].quotePrefix and not ws["H2"].quotePrefix  # Excel keeps them text on edit


def test_what_a_spreadsheet_cannot_hold_exactly_becomes_text():
    data = xlsx_bytes([("S", ["v"], [[10**17], [float("nan")], ["a\x00b\x1fc"]])],
                      created=CREATED)
    values = [r[0] for r in load_workbook(io.BytesIO(data)).active.iter_rows(
        min_row=2, values_only=True)]
    assert values == ["100000000000000000", "nan", "a\ufffdb\ufffdc"]


def test_sheet_titles_follow_excels_rules():
    data = xlsx_bytes([("Báo cáo: tháng 5/2026 [tỉnh Tuyên Quang]", ["a"], []),
                       ("", ["b"], [])], created=CREATED)
    titles = load_workbook(io.BytesIO(data)).sheetnames
    assert titles[0] == "Báo cáo- tháng 5-2026 -tỉnh Tuy"
    assert len(titles) == 2 and all(len(t) <= 31 for t in titles)


def test_the_same_input_gives_the_same_bytes():
    def make() -> bytes:
        return xlsx_bytes([("A", ["x", "y"], ((i, f"r{i}") for i in range(50))),
                           ("B", ["=z"], [[HOSTILE]])], created=CREATED)

    first = make()
    assert make() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2026, 6, 5, 8, 30, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count("2026-06-05T08:30:00Z") == 2  # created and modified
    other = xlsx_bytes([("A", ["x"], [])], created=CREATED + timedelta(days=1))
    assert other != xlsx_bytes([("A", ["x"], [])], created=CREATED)


def test_created_is_stored_in_utc():
    hanoi = timezone(timedelta(hours=7))
    data = xlsx_bytes([("A", ["x"], [])], created=datetime(2026, 6, 5, 15, 30, tzinfo=hanoi))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "2026-06-05T08:30:00Z" in archive.read("docProps/core.xml").decode()


def test_naive_created_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        xlsx_bytes([("A", ["x"], [])], created=datetime(2026, 6, 5))  # noqa: DTZ001


def test_a_failing_row_source_leaves_no_file(tmp_path):
    def rows():
        yield (1,)
        raise RuntimeError("query failed")

    target = tmp_path / "out.xlsx"
    with pytest.raises(RuntimeError):
        xlsx_write(target, [("A", ["n"], rows())], created=CREATED)
    assert not target.exists()


def test_rows_are_streamed_not_held(tmp_path):
    """Memory does not grow with the number of rows: writing 8 times more rows peaks at about
    the same (tracemalloc slows the write about tenfold, so the counts stay modest)."""

    def peak_for(count):
        def rows():
            for i in range(count):
                yield (i, f"Nguyễn Văn {i}")

        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            xlsx_write(tmp_path / "big.xlsx", [("Lớn", ["n", "tên"], rows())], created=CREATED)
            return tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()

    small, large = peak_for(5_000), peak_for(40_000)
    # holding 40,000 such rows alone takes several MB more than holding 5,000
    assert large < small * 1.3 + 200_000, (small, large)
    count = 40_000
    with zipfile.ZipFile(tmp_path / "big.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert xml.count(b"<row ") == count + 1 and f'<row r="{count + 1}">'.encode() in xml
