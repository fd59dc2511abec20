"""Spreadsheet-safe exports (OWASP "CSV injection"): CSV with a UTF-8 BOM (Excel reads
Vietnamese correctly) and formula-like cells neutralised; streamed, reproducible XLSX in which
every cell is a number or literal text, never a formula."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_DANGEROUS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


# XLSX ----------------------------------------------------------------------------------------
# Every cell is a number, a boolean or an inline string: never a formula. openpyxl would make
# a string starting with "=" a formula and "#N/A" an error value, so such strings are written
# as explicit text cells, with Excel's quotePrefix (the style Excel itself gives text typed as
# 'text), which also keeps the cell text when a user later edits it.

Sheet = tuple[str, Sequence[Any], Iterable[Sequence[Any]]]

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EXACT_INTEGER = 2**53  # beyond this Excel (IEEE doubles) silently changes the digits
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)


def _xlsx_value(value: Any) -> tuple[Any, bool]:
    """(value to write, whether it must be forced to a text cell)."""
    if value is None or isinstance(value, bool):
        return value, False
    if isinstance(value, int) and -_EXACT_INTEGER <= value <= _EXACT_INTEGER:
        return value, False
    if isinstance(value, float) and math.isfinite(value):
        return value, False
    if isinstance(value, Decimal) and value.is_finite():
        return value, False
    text = value if isinstance(value, str) else str(value)
    text = _ILLEGAL_XML.sub("\ufffd", text)[:32767]  # XML 1.0 cannot carry these; Excel limit
    return text, text.startswith(_DANGEROUS) or text in ERROR_CODES


def _xlsx_row(ws: WriteOnlyWorksheet, row: Iterable[Any]) -> list[Any]:
    values = [_xlsx_value(v) for v in row]
    if not any(forced for _, forced in values):
        return [v for v, _ in values]
    # openpyxl's write-only rows reuse the last Cell object they were given for the values
    # after it, so once one cell is explicit, all cells of the row are.
    cells = []
    for value, forced in values:
        cell = WriteOnlyCell(ws, value)
        if forced:
            cell.data_type = "s"
            cell.quotePrefix = True
        cells.append(cell)
    return cells


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, no apostrophe at either end."""
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("-", _ILLEGAL_XML.sub("", title)).strip("'")[:31]
    return cleaned or "Sheet"


class _ReproducibleZipFile(zipfile.ZipFile):
    """A ZipFile whose entries all carry one date and fixed attributes, so equal content gives
    equal bytes (openpyxl would stamp each entry with the current time)."""

    def __init__(self, file: Any, date_time: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._date_time = date_time

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 3
        info.external_attr = 0o644 << 16
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        super().writestr(self._entry(name), data)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # Streams openpyxl's temporary sheet file into the archive in chunks.
        with open(filename, "rb") as source, \
                self.open(self._entry(arcname or str(filename)), "w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, 1 << 20)


def xlsx_write(target: str | os.PathLike[str] | BinaryIO, sheets: Iterable[Sheet], *,
               created: datetime) -> None:
    """Write an XLSX workbook of sheets (title, header, rows) to target, a path or a binary
    file. Rows are consumed one at a time and go to a temporary file (openpyxl's write-only
    mode), so a generator of a million rows is never held in memory. None is an empty cell,
    int/float/Decimal/bool are numbers, anything else is text (format dates before).

    created (timezone-aware) is the document's created/modified date and the date of every
    zip entry: the same sheets and created give the same bytes."""
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")  # STYLE.md rule 10
    created_utc = created.astimezone(UTC)
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Hocvuso"
    # openpyxl stores core properties as naive UTC.
    workbook.properties.created = workbook.properties.modified = created_utc.replace(
        tzinfo=None, microsecond=0)
    try:
        for title, header, rows in sheets:
            ws = workbook.create_sheet(_sheet_title(title))
            ws.append(_xlsx_row(ws, header))
            for row in rows:
                ws.append(_xlsx_row(ws, row))
    except BaseException:
        _discard_temporary_files(workbook)  # a long-lived worker must not collect them
        raise
    if not workbook.worksheets:
        workbook.create_sheet("Sheet")
    date_time = max(created_utc, _ZIP_EPOCH).timetuple()[:6]
    archive = _ReproducibleZipFile(target, date_time)
    ExcelWriter(workbook, archive).save()  # what Workbook.save() does, minus its now() stamp


def _discard_temporary_files(workbook: Workbook) -> None:
    for ws in workbook.worksheets:  # openpyxl's write-only sheet: a row coroutine, a writer
        rows, writer = getattr(ws, "_rows", None), getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            if rows is not None:
                rows.close()
            if writer is not None:
                writer.close()
                writer.cleanup()


def xlsx_bytes(sheets: Iterable[Sheet], *, created: datetime) -> bytes:
    """xlsx_write into memory, for small workbooks."""
    buffer = io.BytesIO()
    xlsx_write(buffer, sheets, created=created)
    return buffer.getvalue()
