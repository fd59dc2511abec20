"""`units import`: validate every line of a CSV/XLSX of schools, classes, agencies and
departments, then write all of them or nothing (the rule rosters follow too)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import IO

from flask import current_app
from flask_babel import gettext as _

from lms import policy
from lms.db import session
from lms.errors import ValidationFailed
from lms.people.models import User
from lms.pii import normalize_name
from lms.tabular import canonical_header, read_table
from lms.units import queries, service
from lms.units.models import CODE_PATTERN, FORMULA_STARTS, NAME_MAX, OFFICIAL_KINDS, Unit, UnitKind

SYNONYMS = {
    "code": {"mã", "mã đơn vị", "ma don vi", "unit code"},
    "name": {"tên", "tên đơn vị", "ten don vi", "unit name"},
    "kind": {"loại", "loại đơn vị", "cấp", "type", "unit type"},
    "parent_code": {"mã đơn vị cha", "mã cấp trên", "mã đơn vị cấp trên", "parent",
                    "parent code"},
}
KIND_WORDS = {
    **{k.value: k for k in UnitKind},
    "trường": UnitKind.SCHOOL, "trường học": UnitKind.SCHOOL, "lớp": UnitKind.CLASS,
    "lớp học": UnitKind.CLASS, "cơ quan": UnitKind.AGENCY, "đơn vị": UnitKind.AGENCY,
    "phòng": UnitKind.DEPARTMENT, "phòng ban": UnitKind.DEPARTMENT, "ban": UnitKind.DEPARTMENT,
}
_CODE = re.compile(CODE_PATTERN)


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def add(self, line: int, column: str, message: str) -> None:
        self.problems.append({"line": line, "column": column, "message": message})


@dataclass
class _Line:
    line: int
    code: str
    name: str
    kind: UnitKind
    parent_code: str


def import_units(actor: User | None, filename: str, stream: IO[bytes], *,
                 dry_run: bool) -> ImportReport:
    """Validate every line; unless dry_run, write them all. actor None = system (CLI).

    Raises ValidationFailed (with every problem, by line) when not a dry run and the file is
    not entirely valid; nothing is written then.
    """
    report = ImportReport(dry_run=dry_run)
    lines, refused = _parse(filename, stream, report)
    report.rows = len(lines) + len({p["line"] for p in report.problems})
    in_file = {ln.code: ln for ln in lines}
    known = queries.codes_to_units({ln.code for ln in lines} | {ln.parent_code for ln in lines})
    for ln in lines:
        _check_line(actor, ln, in_file, known, refused, report)
    report.problems.sort(key=lambda p: (p["line"], p["column"]))
    if not report.valid:
        if dry_run:
            return report
        raise ValidationFailed(_("The file was refused; nothing was written."),
                               errors={"lines": report.problems})
    _apply(lines, in_file, known, report, write=not dry_run)
    return report


def _parse(filename: str, stream: IO[bytes],
           report: ImportReport) -> tuple[list[_Line], dict[str, int]]:
    """The lines without problems of their own, and code → line of the refused ones."""
    seen: dict[str, int] = {}
    refused: dict[str, int] = {}
    lines = []
    max_rows = current_app.config["UNIT_IMPORT_MAX_ROWS"]
    for count, row in enumerate(read_table(filename, stream, SYNONYMS, set(SYNONYMS)), 1):
        if count > max_rows:
            raise ValidationFailed(errors={"file": [
                _("The file has more than %(max)s rows; split it.", max=max_rows)]})
        values = {k: str(v) for k, v in row.values.items()}
        before = len(report.problems)
        code, parent_code = values["code"].strip(), values["parent_code"].strip()
        name = normalize_name(values["name"])
        kind = KIND_WORDS.get(canonical_header(values["kind"]))
        if not _CODE.fullmatch(code):
            report.add(row.line, "code", _("Use 1-40 letters, digits, '.', '_' or '-'."))
        elif code in seen:
            report.add(row.line, "code", _("Duplicate code %(code)s (also on line %(other)s).",
                                           code=code, other=seen[code]))
        else:
            seen[code] = row.line
        if not name:
            report.add(row.line, "name", _("The name is required."))
        elif len(name) > NAME_MAX:
            report.add(row.line, "name", _("The name has %(n)s characters; at most %(max)s.",
                                           n=len(name), max=NAME_MAX))
        elif name.startswith(FORMULA_STARTS):
            report.add(row.line, "name", _("A name may not start with =, +, - or @."))
        elif any(unicodedata.category(c) == "Cc" for c in name):
            # e.g. NUL, which PostgreSQL cannot store in text at all
            report.add(row.line, "name", _("The name contains control characters."))
        if kind is None:
            report.add(row.line, "kind", _("Unknown unit type \u201c%(value)s\u201d.",
                                           value=values["kind"][:40]))
        elif kind in OFFICIAL_KINDS:
            report.add(row.line, "kind",
                       _("Provinces and communes come only from the official list."))
        if not parent_code:
            report.add(row.line, "parent_code", _("The parent unit code is required."))
        elif not _CODE.fullmatch(parent_code):
            # never looked up nor echoed back: it may be megabytes long or hold a NUL
            report.add(row.line, "parent_code", _("Use 1-40 letters, digits, '.', '_' or '-'."))
        if len(report.problems) == before:
            lines.append(_Line(row.line, code, name, kind, parent_code))  # type: ignore[arg-type]
        elif seen.get(code) == row.line:
            refused[code] = row.line
    return lines, refused


def _check_line(actor: User | None, ln: _Line, in_file: dict[str, _Line],
                known: dict[str, Unit], refused: dict[str, int], report: ImportReport) -> None:
    existing = known.get(ln.code)
    if existing is not None and (existing.kind != ln.kind or existing.path != _path_hint(
            ln, in_file, known)):
        report.add(ln.line, "code", _("This code is already used by another unit."))
        return
    # Walk up through parents defined in the same file to the first one in the database.
    chain, cursor, depth = [ln], ln, 0
    while cursor.parent_code in in_file and cursor.parent_code not in known:
        cursor = in_file[cursor.parent_code]
        if cursor in chain:
            report.add(ln.line, "parent_code", _("The parent codes form a cycle."))
            return
        chain.append(cursor)
    parent_kind = in_file[ln.parent_code].kind if ln.parent_code in in_file else None
    anchor = known.get(cursor.parent_code)
    if anchor is None and cursor.parent_code in refused:
        report.add(ln.line, "parent_code", _(
            "Parent unit %(code)s is on line %(other)s, which has problems.",
            code=cursor.parent_code, other=refused[cursor.parent_code]))
        return
    # actor None is the system (CLI): it may place units anywhere (as people.grant_role).
    if anchor is None or (actor is not None and not policy.can_see(actor, anchor)):
        report.add(ln.line, "parent_code", _("Parent unit %(code)s does not exist.",
                                             code=cursor.parent_code))
        return
    if actor is not None and not policy.can(actor, policy.Permission.MANAGE_UNITS, anchor):
        report.add(ln.line, "parent_code", _("You may not add units under %(code)s.",
                                             code=cursor.parent_code))
        return
    depth = anchor.depth + len(chain)
    parent = known.get(ln.parent_code)
    if parent is not None:
        problem = service.placement_problem(ln.kind, parent)
    else:
        stand_in = Unit(kind=parent_kind, depth=depth - 1)
        problem = service.placement_problem(ln.kind, stand_in)
    if problem:
        report.add(ln.line, "kind", problem)


def _path_hint(ln: _Line, in_file: dict[str, _Line], known: dict[str, Unit]) -> str | None:
    parent = known.get(ln.parent_code)
    return f"{parent.path}{ln.code}/" if parent is not None else None


def _apply(lines: list[_Line], in_file: dict[str, _Line], known: dict[str, Unit],
           report: ImportReport, *, write: bool) -> None:
    pending = sorted(lines, key=lambda ln: _depth_in_file(ln, in_file))
    for ln in pending:
        existing = known.get(ln.code)
        if existing is not None:
            if existing.name == ln.name:
                report.unchanged += 1
            else:
                report.updated += 1
                if write:
                    existing.name = ln.name
            continue
        report.created += 1
        if write:
            known[ln.code] = service.new_unit(ln.code, ln.name, ln.kind, known[ln.parent_code])
    if write:
        session.flush()


def _depth_in_file(ln: _Line, in_file: dict[str, _Line]) -> int:
    depth = 0
    while ln.parent_code in in_file and depth <= len(in_file):
        ln, depth = in_file[ln.parent_code], depth + 1
    return depth
