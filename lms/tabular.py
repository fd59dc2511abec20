"""Read an uploaded table (CSV in UTF-8/UTF-8-BOM/UTF-16 with , ; or tab, or XLSX) as rows of
{canonical column: text} with their line numbers. Shared by every import (units, rosters)."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from flask_babel import gettext as _

from lms.errors import ValidationFailed

XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb stops here, before openpyxl reads it
XLSX_MAX_ENTRIES = 1000
XLSX_MAX_COLUMNS = 256  # rows are padded to this width at most, whatever the sheet declares
CELL_MAX = 32_767  # Excel's own limit for one cell; anything longer is not a real table
# What a damaged or hostile workbook makes zipfile/openpyxl/the XML parser raise, while opening
# it or while streaming its rows (ParseError is a SyntaxError).
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, KeyError, IndexError, ValueError, TypeError,
                OSError, EOFError, SyntaxError, RuntimeError)


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]  # canonical column → str; XLSX date cells date, whole numbers int


def canonical_header(text: str) -> str:
    """Compare headers ignoring case, spaces around and the Unicode normalisation form."""
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


def _column_map(headers: list[Any], synonyms: Mapping[str, set[str]]) -> dict[int, str]:
    lookup = {canonical_header(s): column for column, names in synonyms.items()
              for s in names | {column}}
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        column = lookup.get(canonical_header(header or ""))
        if column is not None and column not in mapping.values():
            mapping[index] = column
    return mapping


def _decode(raw: bytes) -> str:
    # Excel's "Unicode text" is UTF-16 LE with a BOM; a truncated or damaged one (odd length,
    # lone surrogate) must be refused like any other undecodable file, not crash.
    utf16 = raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE)
    try:
        return raw.decode("utf-16") if utf16 else raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(errors={"file": [
            _("The file is not UTF-8 or UTF-16 text (byte %(pos)s); save it as CSV UTF-8.",
              pos=exc.start)]}) from exc


def _delimiter(text: str) -> str:
    """The separator of the header: the first line that is not blank."""
    for line in io.StringIO(text[:64 * 1024], newline=None):
        if line.strip():
            return max(",;\t", key=line.count)
    return ","


def _csv_rows(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    # reader.line_num is the line where a record ENDS; a person looks for where it starts
    # (a quoted cell may span several lines).
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a cell over csv.field_size_limit()
            raise ValidationFailed(errors={"file": [
                _("Line %(line)s cannot be read: a cell is too long or a quote is not "
                  "closed.", line=start)]}) from exc
        yield start, record
        start = reader.line_num + 1


def _unreadable() -> ValidationFailed:
    return ValidationFailed(errors={"file": [_("The file is not a readable XLSX workbook.")]})


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import CellCoordinatesException, InvalidFileException

    errors = (*_XLSX_ERRORS, CellCoordinatesException, InvalidFileException)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except errors as exc:
        raise _unreadable() from exc
    # Declared sizes may lie; zipfile then stops at the declared size and fails the CRC
    # check, which is one of `errors` below.
    if len(infos) > XLSX_MAX_ENTRIES or sum(i.file_size for i in infos) > XLSX_MAX_UNCOMPRESSED:
        raise ValidationFailed(errors={"file": [_("The XLSX file is too large once unpacked.")]})
    try:
        stream.seek(0)
        # read_only streams the sheet; openpyxl never resolves external entities (defusedxml
        # when installed, and expat without external entity loading otherwise).
        book = load_workbook(stream, read_only=True, data_only=True, keep_links=False)
    except errors as exc:
        raise _unreadable() from exc
    try:
        sheet = book.worksheets[0]
        # Read-only mode trusts the sheet's <dimension>: a wrong one ("A1") silently drops
        # rows, a hostile one ("A1:XFD1048576") pads a million empty rows. Read what is there.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=XLSX_MAX_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            yield number, list(values)
    except errors as exc:
        raise _unreadable() from exc
    finally:
        book.close()


def read_table(filename: str, stream: IO[bytes], synonyms: Mapping[str, set[str]],
               required: set[str]) -> Iterator[Row]:
    """Rows with line numbers as a person counts them (header = line 1).

    Raises ValidationFailed when the file cannot be read or a required column is missing.
    Blank lines are skipped; unknown columns (e.g. "STT") are ignored.
    """
    is_xlsx = filename.lower().endswith(".xlsx")
    records = _xlsx_rows(stream) if is_xlsx else _csv_rows(stream.read())
    mapping: dict[int, str] | None = None
    # CSV cells are already text: strip them directly (100,000-line rosters read each cell
    # once; the XLSX path converts numbers and dates).
    cell = _cell if is_xlsx else str.strip
    for line, record in records:
        # count(None): a fast path, in C, for the padding rows of a sheet
        if record.count(None) == len(record) or not any(map(cell, record)):
            continue
        if mapping is None:
            mapping = _column_map(record, synonyms)
            missing = required - set(mapping.values())
            if missing:
                raise ValidationFailed(errors={"file": [
                    _("Line %(line)s: missing column(s): %(columns)s", line=line,
                      columns=", ".join(sorted(missing)))]})
            continue
        width = len(record)
        values = {column: cell(record[i]) if i < width else ""
                  for i, column in mapping.items()}
        for column, value in values.items():
            if type(value) is str and len(value) > CELL_MAX:
                raise ValidationFailed(errors={"file": [
                    _("Line %(line)s, column %(column)s: a cell may hold at most %(max)s "
                      "characters.", line=line, column=column, max=CELL_MAX)]})
        yield Row(line, values)
    if mapping is None:
        raise ValidationFailed(errors={"file": [_("The file is empty.")]})


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return str(value)
    # A whole number stays a number: an ID typed into Excel as a number lost its leading zeros,
    # and only the importer knows whether they can be put back.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    return str(value).strip()
