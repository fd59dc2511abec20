"""The monthly completion report PDF, read back with poppler: NĐ 30/2020 masthead, Vietnamese
number formats, a long child table with its header on every page, hostile names as text."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from enrollment.reports.documents import ChildRow, Figures, MonthlyReport
from enrollment.reports.pdf import place_date, render_monthly_report, vi_int, vi_percent

HOSTILE = '=HYPERLINK("http://evil.example","x")'
IMG = '<img src="file:///etc/passwd">'


def figures(expected: int, completed: int) -> Figures:
    rest = expected - completed
    return Figures(expected=expected, completed=completed, in_progress=rest // 2,
                   not_started=rest - rest // 2, overdue=rest // 3, exempt=2)


def report(communes: int = 3, **changes) -> MonthlyReport:
    base = MonthlyReport(
        governing_body="UBND tỉnh Tuyên Quang", unit_name="Sở Giáo dục và Đào tạo",
        unit_code="SGDDT-08", number="15/BC-SGDĐT", place="Tuyên Quang",
        issued_on=date(2026, 6, 5), period="2026-05",
        courses=("An toàn giao thông", "An toàn trên không gian mạng"),
        figures=Figures(expected=1234, completed=1201, in_progress=20, not_started=13,
                        overdue=9, exempt=12),
        children=tuple(ChildRow(code=f"X{i:04d}", name=f"Xã Thượng Lâm {i}",
                                figures=figures(1000 + i, 900 + i)) for i in range(communes)),
        snapshot_id="snap-2026-05-0008-000123", content_hash="ab12" * 16,
        signer_title="Người lập báo cáo", signer_name="Nguyễn Thị Ngọc Ánh",
        recipients=("Bộ Giáo dục và Đào tạo", "UBND tỉnh Tuyên Quang"))
    return dataclasses.replace(base, **changes)


def pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
                          check=True, capture_output=True, text=True).stdout
    return [unicodedata.normalize("NFC", page) for page in text.split("\f") if page.strip()]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_vietnamese_number_and_date_formats():
    assert vi_int(1234567) == "1.234.567"
    assert vi_int(0) == "0"
    assert vi_percent(Decimal("97.3")) == "97,3%"
    assert vi_percent(None) == "–"
    assert place_date("Tuyên Quang", 5, 6, 2026) == "Tuyên Quang, ngày 05 tháng 6 năm 2026"
    assert place_date("Hà Nội", 15, 2, 2026) == "Hà Nội, ngày 15 tháng 02 năm 2026"


def test_figures_rate_and_gap():
    f = Figures(expected=1000, completed=973, in_progress=20, not_started=7, overdue=5,
                exempt=12)
    assert f.rate == Decimal("97.3") and f.gap == 27
    # never rounded up to a target not yet met
    assert Figures(10000, 9999, 1, 0, 0, 0).rate == Decimal("99.9")
    assert Figures(0, 0, 0, 0, 0, 4).rate is None


@pytest.mark.parametrize("counts", [(10, 5, 1, 1, 0, 0), (10, 5, 5, 0, 6, 0),
                                    (10, 11, 0, -1, 0, 0)])
def test_figures_that_do_not_add_up_are_refused(counts):
    with pytest.raises(ValueError):
        Figures(*counts)


def test_a_bad_period_is_refused():
    with pytest.raises(ValueError, match="YYYY-MM"):
        report(period="2026-5")


def test_the_report_has_the_administrative_layout_and_vietnamese_figures(tmp_path):
    pdf = render_monthly_report(report())
    pages = pages_text(pdf, tmp_path)
    text = flat(" ".join(pages))
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "UBND TỈNH TUYÊN QUANG", "SỞ GIÁO DỤC VÀ ĐÀO TẠO", "Số: 15/BC-SGDĐT",
                     "Tuyên Quang, ngày 05 tháng 6 năm 2026", "BÁO CÁO",
                     "Kết quả hoàn thành khóa học tháng 5/2026",
                     "An toàn giao thông; An toàn trên không gian mạng",
                     "1.234", "1.201", "97,3%", "33 người", "90,0%",
                     "Nơi nhận:", "- Bộ Giáo dục và Đào tạo;", "- Lưu: VT.",
                     "NGƯỜI LẬP BÁO CÁO", "(Ký, ghi rõ họ tên)", "Nguyễn Thị Ngọc Ánh",
                     "Mã chốt số liệu: snap-2026-05-0008-000123", "SHA-256: " + "ab12" * 16):
        assert expected in text, expected
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata["/CreationDate"] == "D:20260605"
    assert metadata.title.startswith("Báo cáo kết quả hoàn thành khóa học tháng 5/2026")


def test_the_same_report_gives_the_same_bytes():
    assert render_monthly_report(report()) == render_monthly_report(report())
    assert render_monthly_report(report()) != render_monthly_report(
        report(snapshot_id="snap-other"))


def test_names_are_nfc_normalised(tmp_path):
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ngọc Ánh")
    pdf = render_monthly_report(report(signer_name=nfd))
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    assert "Nguyễn Thị Ngọc Ánh" in raw  # extracted as NFC without normalising the output


def test_three_hundred_communes_span_pages_with_the_header_repeated(tmp_path):
    pages = pages_text(render_monthly_report(report(communes=300)), tmp_path)
    assert len(pages) >= 5
    table_pages = [p for p in pages if re.search(r"X0\d{3}", p)]
    assert len(table_pages) >= 4
    for page in table_pages:
        assert "Tên đơn vị" in page and "Tỷ lệ" in page, page[:400]
    rows = {code for page in pages for code in re.findall(r"\bX(\d{4})\b", page)}
    assert rows == {f"{i:04d}" for i in range(300)}
    # page numbers from page 2 on, in the top margin (NĐ 30/2020); none on page 1
    for number, page in enumerate(pages[1:], start=2):
        assert page.strip().splitlines()[0].strip() == str(number)
    assert pages[0].strip().splitlines()[0].strip().startswith("UBND")
    # the snapshot line is on every page
    assert all("Mã chốt số liệu: snap-2026-05-0008-000123" in flat(p) for p in pages)


def test_hostile_names_show_as_literal_text(tmp_path):
    pdf = render_monthly_report(report(
        unit_name=HOSTILE, signer_name=IMG,
        children=(ChildRow(code="<b>X</b>", name=IMG, figures=figures(10, 5)),)))
    text = flat(" ".join(pages_text(pdf, tmp_path)))
    assert f"Đơn vị: {HOSTILE} (mã SGDDT-08)" in text
    assert IMG in text
    assert "<b>X</" in text  # shown, not applied (the narrow code column wraps it)
    assert b"root:x:" not in pdf
