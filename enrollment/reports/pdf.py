"""The monthly completion report as a PDF, laid out per Nghị định 30/2020/NĐ-CP (Phụ lục I):
masthead, title, figures, the child units, recipients and signature."""

from __future__ import annotations

import dataclasses
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

from enrollment.reports.documents import MonthlyReport
from lms.pdf import render_pdf, template_environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE = "reports/monthly_report.html"

# NĐ 30/2020 Phụ lục I: A4, margins top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm;
# text 13–14 pt; page numbers centred in the top margin, none on the first page.
REPORT_CSS = """
@page {
  margin: 20mm 15mm 22mm 30mm;
  @top-center { content: counter(page); font-size: 13pt; }
  @bottom-left { content: element(footer); vertical-align: top; }
}
@page :first { @top-center { content: none; } }
body { font-size: 13pt; line-height: 1.3; margin: 0; }
.running-footer { position: running(footer); font-size: 7pt; color: #444;
  overflow-wrap: anywhere; }
table.masthead { width: 100%; border-collapse: collapse; margin-bottom: 8mm; }
table.masthead td { vertical-align: top; text-align: center; padding: 0; }
td.issuer { width: 40%; font-size: 12.5pt; }
td.motto { width: 60%; }
.unit { font-weight: bold; }
.rule-short { width: 30%; margin: 1pt auto 5pt; border-top: 0.6pt solid black; }
.number { font-size: 13pt; }
.nation { font-weight: bold; font-size: 12pt; white-space: nowrap; }
.motto-line { font-weight: bold; font-size: 13pt; }
.motto-line span { display: inline-block; border-bottom: 0.6pt solid black; padding-bottom: 1pt; }
.place-date { font-style: italic; font-size: 13pt; margin-top: 7pt; }
h1 { font-size: 14pt; text-align: center; margin: 0; }
.subtitle { font-weight: bold; text-align: center; margin: 0; }
.rule-title { width: 25%; margin: 4pt auto 6mm; border-top: 0.6pt solid black; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; }
p { margin: 0 0 2mm; text-align: justify; }
/* Fixed layout: column widths come from <col>, not from measuring every cell first (a
   province's report lists hundreds of communes). */
table.figures, table.children { width: 100%; border-collapse: collapse; table-layout: fixed;
  font-variant-numeric: tabular-nums; }
table.figures { font-size: 12pt; }
table.children { font-size: 9pt; line-height: 1.2; }
table.figures th, table.figures td, table.children th, table.children td {
  border: 0.5pt solid black; padding: 1.5pt 3pt; }
th { font-weight: bold; text-align: center; vertical-align: middle; }
td.num { text-align: right; }
td.tt { text-align: center; }
col.tt { width: 10mm; }
col.result { width: 40mm; }
col.code { width: 15mm; }
col.count { width: 13mm; }
col.rate { width: 14mm; }
table.children td.code { overflow-wrap: anywhere; }
tr { break-inside: avoid; }
table.closing { width: 100%; border-collapse: collapse; margin-top: 8mm; break-inside: avoid; }
table.closing td { vertical-align: top; padding: 0; }
td.recipients { width: 50%; font-size: 11pt; }
.recipients-title { font-weight: bold; font-style: italic; font-size: 12pt; }
td.signature { width: 50%; text-align: center; }
.signer-title { font-weight: bold; }
.sign-hint { font-style: italic; font-size: 12pt; margin-bottom: 22mm; }
.signer-name { font-weight: bold; }
"""


def vi_int(value: int) -> str:
    """1234567 -> "1.234.567" (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def vi_percent(rate: Decimal | None) -> str:
    """Decimal("97.3") -> "97,3%"; None (nobody expected) -> "–"."""
    if rate is None:
        return "–"
    return f"{rate:.1f}".replace(".", ",") + "%"


def place_date(place: str, day: int, month: int, year: int) -> str:
    """NĐ 30/2020: days below 10 and the months 1 and 2 take a leading zero."""
    month_text = f"{month:02d}" if month <= 2 else str(month)
    return f"{place}, ngày {day:02d} tháng {month_text} năm {year}"


def _nfc(value: Any) -> Any:
    """value with every string NFC-normalised, through dataclasses and tuples (DESIGN.md:
    every Vietnamese name must render, whatever form it was stored in)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, tuple):
        return tuple(_nfc(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _nfc(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _environment():
    env = template_environment(TEMPLATES)
    env.filters.setdefault("vi_int", vi_int)
    env.filters.setdefault("vi_percent", vi_percent)
    return env


def monthly_report_html(report: MonthlyReport) -> str:
    """The report's HTML (autoescaped), names NFC-normalised."""
    report = _nfc(report)
    return _environment().get_template(TEMPLATE).render(
        r=report, f=report.figures,
        month_label=f"{report.month}/{report.year}",
        place_date=place_date(report.place, report.issued_on.day, report.issued_on.month,
                              report.issued_on.year))


def render_monthly_report(report: MonthlyReport) -> bytes:
    """The report as PDF bytes: the same report gives the same bytes, dated issued_on."""
    return render_pdf(monthly_report_html(report), stylesheets=(REPORT_CSS,),
                      created=report.issued_on)
