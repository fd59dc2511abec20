"""The people list of a unit subtree as CSV (UTF-8 with BOM, RFC 4180), one row per person and
assigned course, streamed from one SELECT that also formats and neutralises every cell: on
PostgreSQL through COPY ... TO STDOUT, on SQLite through a plain cursor. No ORM objects: a
province is a million rows. The state follows counters.live (the figures' reference)."""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from enrollment.reports.counters import coverage, leaf, newest_enrolments
from enrollment.reports.figures import assigned_courses
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms import jobs, policy
from lms.db import get_db, session
from lms.errors import NotFound, ValidationFailed
from lms.people.models import User
from lms.storage import keep_result, result_path
from lms.units.models import CODE_PATTERN, Unit, subtree_bounds
from lms.units.queries import get_unit

SYNC_MAX = 50_000  # people; above this the export is a job (config PEOPLE_EXPORT_SYNC_MAX)
CHUNK = 64 * 1024  # bytes handed on at a time
FETCH = 5_000  # rows per fetch on SQLite
LOCAL_ZONE = "Asia/Ho_Chi_Minh"
# OWASP "CSV injection": a cell starting with one of these gets a leading apostrophe.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_CODE = re.compile(CODE_PATTERN)


@dataclass(frozen=True)
class PeopleExport:
    """What to export; resolved and scope-checked in the request, run later or elsewhere."""

    unit_id: int
    unit_code: str
    unit_path: str
    courses: tuple[str, ...]
    today: date


def header() -> list[str]:
    return [_("Class / department"), _("School / agency"), _("Full name"), _("Personal ID"),
            _("Date of birth"), _("Course"), _("State"), _("Completed on")]


def state_words() -> dict[str, str]:
    return {"exempt": _("Exempt"), "completed": _("Completed"), "overdue": _("Overdue"),
            "in_progress": _("In progress"), "not_started": _("Not started")}


def export_for(actor: User | None, code: str, courses: list[str], today: date) -> PeopleExport:
    """The export of a unit whose people the actor may see. Raises NotFound otherwise (out of
    scope, or the unit only visible as public reference data), ValidationFailed for a
    malformed course code. No course given: every course assigned in the subtree."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.VIEW_PEOPLE, unit):
        raise NotFound()
    bad = [c for c in courses if not _CODE.fullmatch(c)]
    if bad:
        raise ValidationFailed(errors={"course": [_("Unknown course.")]})
    chosen = tuple(sorted(set(courses))) if courses else assigned_courses(unit)
    return PeopleExport(unit.id, unit.code, unit.path, chosen, today)


def people_count(export: PeopleExport) -> int:
    """People on the rosters of the subtree (not left): what decides stream or job."""
    low, high = subtree_bounds(export.unit_path)
    return session.execute(
        select(func.count()).select_from(RosterEntry).join(Unit, Unit.id == RosterEntry.unit_id)
        .where(Unit.path >= low, Unit.path < high, RosterEntry.status != EntryStatus.LEFT)
    ).scalar_one()


def _clean(dialect: str, value: ColumnElement) -> ColumnElement:
    """Neutralised (a leading apostrophe before a formula start) and on one line."""
    neutral = case((func.substr(value, 1, 1).in_(DANGEROUS), literal("'").op("||")(value)),
                   else_=value)
    return func.replace(func.replace(neutral, "\r", " "), "\n", " ")


def _day(dialect: str, value: ColumnElement) -> ColumnElement:
    if dialect == "postgresql":
        return func.to_char(value, "DD/MM/YYYY")
    return func.strftime("%d/%m/%Y", value)


def _local_day(dialect: str, value: ColumnElement) -> ColumnElement:
    if dialect == "postgresql":
        return func.to_char(func.timezone(LOCAL_ZONE, value), "DD/MM/YYYY")
    return func.strftime("%d/%m/%Y", value, "+7 hours")  # Việt Nam: UTC+7, no summer time


def statement(export: PeopleExport, dialect: str, *, plain: bool = False) -> Select:
    """The rows in file order. plain=True: the same rows with raw columns (the benchmark's
    floor, what the database does at the least to produce them)."""
    low, high = subtree_bounds(export.unit_path)
    within = and_(leaf.path >= low, leaf.path < high)
    courses = list(export.courses)
    cover = coverage(within, courses).subquery("cover")
    people = (select(RosterEntry.user_id).join(leaf, leaf.id == RosterEntry.unit_id)
              .where(within, RosterEntry.user_id.is_not(None)))
    newest = newest_enrolments(people, courses)
    klass = aliased(Unit, name="klass")
    parent = aliased(Unit, name="parent_unit")
    entry = RosterEntry
    if plain:
        columns = [klass.name, parent.name, entry.full_name, entry.personal_id_masked,
                   entry.birth_on, cover.c.course_code, entry.status, cover.c.due_on,
                   newest.c.user_id, newest.c.completed_at]
    else:
        words = state_words()
        state = case((entry.status == EntryStatus.EXEMPT, literal(words["exempt"])),
                     (newest.c.completed_at.is_not(None), literal(words["completed"])),
                     (cover.c.due_on < export.today, literal(words["overdue"])),
                     (newest.c.user_id.is_not(None), literal(words["in_progress"])),
                     else_=literal(words["not_started"]))
        columns = [_clean(dialect, klass.name), _clean(dialect, parent.name),
                   _clean(dialect, entry.full_name), _clean(dialect, entry.personal_id_masked),
                   _day(dialect, entry.birth_on), _clean(dialect, cover.c.course_code), state,
                   _local_day(dialect, newest.c.completed_at)]
    course_order = (cover.c.course_code.collate("C") if dialect == "postgresql"
                    else cover.c.course_code)
    return (select(*columns).select_from(cover)
            .join(entry, and_(entry.unit_id == cover.c.unit_id,
                              entry.status != EntryStatus.LEFT))
            .join(klass, klass.id == entry.unit_id)
            .outerjoin(parent, parent.id == klass.parent_id)
            .outerjoin(newest, and_(newest.c.user_id == entry.user_id,
                                    newest.c.course_code == cover.c.course_code,
                                    newest.c.rank == 1))
            .order_by(klass.path, entry.id, course_order))


def _value(value: Any, dialect: str) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date) and dialect == "sqlite":
        return value.isoformat()  # stored as ISO text; sqlite3's date adapter is deprecated
    return value


def compiled_sql(select_: Select, dialect: str) -> tuple[str, Any]:
    """SQL text and parameters for the driver itself (psycopg pyformat, sqlite3 qmark)."""
    target = postgresql.psycopg.dialect() if dialect == "postgresql" else sqlite.dialect()
    compiled = select_.compile(dialect=target, compile_kwargs={"render_postcompile": True})
    if compiled.positiontup is not None:
        return compiled.string, [_value(compiled.params[n], dialect)
                                 for n in compiled.positiontup]
    return compiled.string, {k: _value(v, dialect) for k, v in compiled.params.items()}


def copy_sql(driver_connection: Any, select_: Select) -> str:
    """`COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)` with its literals bound by psycopg
    (COPY takes no server-side parameters)."""
    import psycopg

    sql, params = compiled_sql(select_, "postgresql")
    query = psycopg.ClientCursor(driver_connection).mogrify(sql, params)
    return f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER false)"


def _header_bytes(names: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(names)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def stream_csv(driver_connection: Any, dialect: str, export: PeopleExport,
               names: list[str] | None = None) -> Iterator[bytes]:
    """The file in chunks, read through a DB-API connection (psycopg or sqlite3) that the
    caller owns: a job's own transaction, or a connection of its own for a streamed answer."""
    yield _header_bytes(names if names is not None else header())
    select_ = statement(export, dialect)
    if dialect == "postgresql":
        yield from _copy_chunks(driver_connection, copy_sql(driver_connection, select_))
    else:
        yield from _sqlite_chunks(driver_connection, select_)


def _copy_chunks(connection: Any, sql: str) -> Iterator[bytes]:
    pending: list[bytes] = []
    size = 0
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for data in copy:
            pending.append(bytes(data))
            size += len(data)
            if size >= CHUNK:
                # COPY ends lines with LF; RFC 4180 wants CRLF. No cell holds a line break
                # (the SELECT folds them), so every LF is a line end.
                yield b"".join(pending).replace(b"\n", b"\r\n")
                pending, size = [], 0
    if pending:
        yield b"".join(pending).replace(b"\n", b"\r\n")


def _sqlite_chunks(connection: Any, select_: Select) -> Iterator[bytes]:
    sql, params = compiled_sql(select_, "sqlite")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            writer.writerows(rows)
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    finally:
        cursor.close()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def filename(export: PeopleExport) -> str:
    return f"people-{export.unit_code}.csv"


def _lines(chunks: Iterator[bytes], counter: list[int]) -> Iterator[bytes]:
    for chunk in chunks:
        counter[0] += chunk.count(b"\n")
        yield chunk


@jobs.task("reports.people_export", label=_l("List of people"))
def export_people_job(job: jobs.Job, *, courses: list[str], today: str, **_params: Any) -> dict:
    """The same file, written in the job's own transaction (read only) and kept for its
    requester. The view checked the scope when it submitted the job, for job.unit_id."""
    unit = session.get(Unit, job.unit_id)
    if unit is None:
        raise NotFound()
    export = PeopleExport(unit.id, unit.code, unit.path, tuple(courses),
                          date.fromisoformat(today))
    # A connection of its own: on SQLite the job's transaction holds the one write lock,
    # which a minute of reading must not keep from every other writer.
    engine = get_db().engine
    raw = engine.raw_connection()
    lines = [0]
    try:
        with result_path(".csv") as path:
            with path.open("wb") as out:
                for chunk in _lines(stream_csv(raw.driver_connection, engine.dialect.name,
                                               export), lines):
                    out.write(chunk)
            key = keep_result(path)
    finally:
        raw.close()  # back to the pool, rolled back
    return {"file": key, "filename": filename(export), "content_type": "text/csv; charset=utf-8",
            "rows": lines[0] - 1}
