"""Read an uploaded table (CSV in UTF-8/UTF-8-BOM/UTF-16 with , ; or tab, or XLSX) as rows of
{canonical column: text} with their line numbers. Shared by every import (units, rosters)."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from flask_babel import gettext as _

from lms.errors import ValidationFailed

XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb stops here, before openpyxl reads it
XLSX_MAX_ENTRIES = 1000


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]  # canonical column → str, or date for XLSX date cells


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
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(errors={"file": [
            _("The file is not UTF-8 or UTF-16 text (byte %(pos)s); save it as CSV UTF-8.",
              pos=exc.start)]}) from exc


def _csv_rows(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(raw)
    sample = text[:64 * 1024]
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for record in reader:
        yield reader.line_num, record


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            unpacked = sum(i.file_size for i in infos)
            if len(infos) > XLSX_MAX_ENTRIES or unpacked > XLSX_MAX_UNCOMPRESSED:
                raise ValidationFailed(errors={"file": [
                    _("The XLSX file is too large once unpacked.")]})
        stream.seek(0)
        # read_only streams the sheet; openpyxl never resolves external entities (defusedxml
        # when installed, and expat without external entity loading otherwise).
        book = load_workbook(stream, read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValidationFailed(errors={"file": [
            _("The file is not a readable XLSX workbook.")]}) from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
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
    for line, record in records:
        if not any(_cell(v) for v in record):
            continue
        if mapping is None:
            mapping = _column_map(record, synonyms)
            missing = required - set(mapping.values())
            if missing:
                raise ValidationFailed(errors={"file": [
                    _("Line %(line)s: missing column(s): %(columns)s", line=line,
                      columns=", ".join(sorted(missing)))]})
            continue
        yield Row(line, {column: _cell(record[i]) if i < len(record) else ""
                         for i, column in mapping.items()})
    if mapping is None:
        raise ValidationFailed(errors={"file": [_("The file is empty.")]})


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
