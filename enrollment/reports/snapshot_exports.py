"""CSV, XLSX and PDF of a locked snapshot, rendered from its stored content only (never from
live data), so every download of a version is byte-identical; and CSV/XLSX of the live
figures for the dashboard. Spreadsheet cells go through lms.exports (formulas neutralised)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from enrollment.assignments.queries import LOCAL_ZONE
from enrollment.reports.documents import ChildRow, Figures, MonthlyReport
from enrollment.reports.pdf import render_monthly_report
from enrollment.reports.snapshot_models import ReportSnapshot
from enrollment.reports.snapshots import FIGURE_FIELDS
from lms.exports import csv_bytes, xlsx_bytes

# The PDF is a Vietnamese administrative document of record (NĐ 30/2020), the same bytes for
# every reader whatever their interface language: its fixed words are not translated.
ROOT_GOVERNING_BODY = "BỘ GIÁO DỤC VÀ ĐÀO TẠO"
SIGNER_TITLE = "Người lập báo cáo"
_PLACE_PREFIXES = ("Thành phố ", "Tỉnh ")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def figures_of(counts: dict[str, Any]) -> Figures:
    return Figures(**{field: int(counts[field]) for field in FIGURE_FIELDS})


def _labels() -> list[str]:
    return [_("Expected"), _("Completed"), _("In progress"), _("Not started"), _("Overdue"),
            _("Exempt"), _("Completion rate (%)"), _("Still to complete")]


def _numbers(counts: dict[str, Any]) -> list[Any]:
    figures = figures_of(counts)
    return [*(getattr(figures, f) for f in FIGURE_FIELDS), figures.rate, figures.gap]


def _table_header() -> list[str]:
    return [_("Period"), _("Level"), _("Unit code"), _("Unit name"), _("Kind"), *_labels(),
            _("Snapshot"), _("Snapshot version"), _("SHA-256")]


def _table_rows(content: dict[str, Any], own: dict[str, Any] | None) -> list[list[Any]]:
    """The unit's total first, then one row per child; rates as numbers, no formulas."""
    period = content.get("period") or ""
    unit = content["unit"]
    own = own or {}
    rows = [[period, _("Total"), unit["code"], unit["name"], unit["kind"],
             *_numbers(content["figures"]), own.get("id"), own.get("version"), own.get("hash")]]
    for child in content["children"]:
        snapshot = child.get("snapshot") or {}
        rows.append([period, _("Unit below"), child["code"], child["name"], child["kind"],
                     *_numbers(child["figures"]), snapshot.get("id"), snapshot.get("version"),
                     snapshot.get("hash")])
    return rows


def _csv(content: dict[str, Any], own: dict[str, Any] | None) -> bytes:
    rows = [[("" if v is None else str(v)) for v in row] for row in _table_rows(content, own)]
    return csv_bytes(_table_header(), rows)


def _own(snapshot: ReportSnapshot) -> dict[str, Any]:
    return {"id": snapshot.public_id, "version": snapshot.version,
            "hash": snapshot.content_hash}


def locked_at(content: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(content["locked_at"])


def snapshot_csv(snapshot: ReportSnapshot) -> bytes:
    return _csv(snapshot.content, _own(snapshot))


def _summary(content: dict[str, Any], own: dict[str, Any] | None) -> list[list[Any]]:
    unit, own = content["unit"], own or {}
    moment = content.get("locked_at")
    local = (datetime.fromisoformat(moment).astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")
             if moment else None)
    rows: list[list[Any]] = [
        [_("Unit code"), unit["code"]], [_("Unit name"), unit["name"]],
        [_("Period"), content.get("period")], [_("Version"), content.get("version")],
        [_("Locked at (Vietnam time)"), local], [_("Locked by"), content.get("locked_by")],
        [_("Snapshot"), own.get("id")], [_("SHA-256"), own.get("hash")],
        [_("Courses"), "; ".join(content.get("courses", ()))]]
    rows += [[label, value] for label, value in zip(_labels(), _numbers(content["figures"]),
                                                    strict=True)]
    return rows


def _xlsx(content: dict[str, Any], own: dict[str, Any] | None, created: datetime) -> bytes:
    return xlsx_bytes([(_("Summary"), [_("Item"), _("Value")], _summary(content, own)),
                       (_("Units"), _table_header(), _table_rows(content, own))],
                      created=created)


def snapshot_xlsx(snapshot: ReportSnapshot) -> bytes:
    return _xlsx(snapshot.content, _own(snapshot), locked_at(snapshot.content))


def _place(content: dict[str, Any]) -> str:
    province = content.get("province")
    if not province:
        return content["unit"]["name"]
    name = province["name"]
    for prefix in _PLACE_PREFIXES:
        name = name.removeprefix(prefix)
    return name


def monthly_report(snapshot: ReportSnapshot) -> MonthlyReport:
    """The PDF's inputs, from the snapshot's stored content only."""
    content = snapshot.content
    unit, parent = content["unit"], content.get("parent")
    return MonthlyReport(
        governing_body=parent["name"].upper() if parent else ROOT_GOVERNING_BODY,
        unit_name=unit["name"], unit_code=unit["code"],
        number=f"{content['version']:02d}/BC-{unit['code']}", place=_place(content),
        issued_on=locked_at(content).astimezone(LOCAL_ZONE).date(), period=content["period"],
        courses=tuple(content.get("course_titles") or content.get("courses") or ()),
        figures=figures_of(content["figures"]),
        children=tuple(ChildRow(code=c["code"], name=c["name"], figures=figures_of(c["figures"]))
                       for c in content["children"]),
        snapshot_id=snapshot.public_id, content_hash=snapshot.content_hash,
        signer_title=SIGNER_TITLE, signer_name=content.get("locked_by") or "",
        recipients=(parent["name"],) if parent else ())


def snapshot_pdf(snapshot: ReportSnapshot) -> bytes:
    return render_monthly_report(monthly_report(snapshot))


def render_snapshot(snapshot: ReportSnapshot, fmt: str) -> bytes:
    """fmt: csv | xlsx | pdf."""
    return {"csv": snapshot_csv, "xlsx": snapshot_xlsx, "pdf": snapshot_pdf}[fmt](snapshot)


def snapshot_filename(snapshot: ReportSnapshot, fmt: str) -> str:
    """No personal data: the unit code (an organisation), period and version."""
    code = snapshot.content["unit"]["code"]
    return f"bao-cao-{code}-{snapshot.period}-v{snapshot.version}.{fmt}"


def live_export(content: dict[str, Any], fmt: str, created: datetime) -> bytes:
    """The current figures (snapshots.figures_content) as CSV or XLSX."""
    if fmt == "csv":
        return _csv(content, None)
    return _xlsx(content, None, created)


def live_filename(content: dict[str, Any], day: str, fmt: str) -> str:
    return f"so-lieu-{content['unit']['code']}-{day}.{fmt}"


def etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
