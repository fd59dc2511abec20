"""Monthly locked snapshots ("chốt số liệu"): lock a unit's figures for a period, correct them
with a new version, compare versions, and follow which child units have submitted on time.
Snapshots are inserted, never updated or deleted: there is no update path in this module."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from enrollment.assignments.queries import LOCAL_ZONE, latest_courses_by_code
from enrollment.reports.figures import UnitFigures, unit_figures
from enrollment.reports.snapshot_models import ReportSnapshot
from lms import policy
from lms.audit.service import record
from lms.db import session, utcnow
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people.models import User
from lms.units.models import Unit, UnitKind
from lms.units.queries import ancestors, get_unit

FIGURE_FIELDS = ("expected", "completed", "in_progress", "not_started", "overdue", "exempt")
FIRST_PERIOD = "2020-01"
NOTE_MAX = 2000
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# Periods and deadlines -----------------------------------------------------------------------

def local_today() -> date:
    """Today in Vietnam, from the same clock as locked_at (lms.db.utcnow)."""
    return utcnow().astimezone(LOCAL_ZONE).date()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def recent_periods(today: date, count: int = 12) -> list[str]:
    """The current month and the count - 1 before it, newest first (never before 2020)."""
    periods = [month_of(today)]
    while len(periods) < count and periods[-1] > FIRST_PERIOD:
        periods.append(previous_period(periods[-1]))
    return periods


def check_period(period: str, today: date) -> str:
    """"YYYY-MM" from 2020 to the current month. Raises ValidationFailed on `period`."""
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise ValidationFailed(errors={"period": [_("Use the form YYYY-MM.")]})
    if period < FIRST_PERIOD:
        raise ValidationFailed(errors={"period": [_("Periods start in January 2020.")]})
    if period > month_of(today):
        raise ValidationFailed(errors={"period": [_("This month has not started yet.")]})
    return period


def deadline_day(period: str) -> date:
    """The last day (Vietnam) to submit a period: day REPORT_DEADLINE_DAY of the next month."""
    day = min(max(int(current_app.config.get("REPORT_DEADLINE_DAY", 5)), 1), 28)
    year, month = int(period[:4]), int(period[5:])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, day)


def deadline(period: str) -> datetime:
    """The instant (UTC) a period's report becomes late: the end of deadline_day, Vietnamese
    time."""
    end = datetime.combine(deadline_day(period) + timedelta(days=1), time(), LOCAL_ZONE)
    return end.astimezone(UTC)


# Content and hash ----------------------------------------------------------------------------

def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON: what a reader recomputes to verify a snapshot."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _figures_dict(figures: Any) -> dict[str, int]:
    return {field: int(getattr(figures, field)) for field in FIGURE_FIELDS}


def _province(unit: Unit) -> dict[str, str] | None:
    if unit.kind is UnitKind.PROVINCE:
        return {"code": unit.code, "name": unit.name}
    for above in ancestors(unit):
        if above.kind is UnitKind.PROVINCE:
            return {"code": above.code, "name": above.name}
    return None


def figures_content(result: UnitFigures) -> dict[str, Any]:
    """The parts of a snapshot's content that come from the figures: also what the live
    exports render, so that a live download and a locked one have the same layout."""
    unit = result.unit
    parent = unit.parent
    titles = latest_courses_by_code(list(result.courses))
    return {
        "unit": {"code": unit.code, "name": unit.name, "kind": unit.kind.value},
        "parent": {"code": parent.code, "name": parent.name} if parent else None,
        "province": _province(unit),
        "courses": list(result.courses),
        # the official title of each course, for the PDF (a document in Vietnamese)
        "course_titles": [titles[c].title_vi if c in titles else c for c in result.courses],
        "figures": _figures_dict(result.figures),
        "children": [{"code": row.code, "name": row.name, "kind": row.kind,
                      "figures": _figures_dict(row.figures), "snapshot": None}
                     for row in result.children],
    }


def _children_snapshots(unit: Unit, period: str) -> dict[str, dict[str, Any]]:
    """Each child unit's latest locked version for the period: {code: {id, hash, version}}."""
    rows = session.execute(
        select(Unit.code, ReportSnapshot.public_id, ReportSnapshot.content_hash,
               ReportSnapshot.version)
        .join(Unit, Unit.id == ReportSnapshot.unit_id)
        .where(Unit.parent_id == unit.id, ReportSnapshot.period == period)
        .order_by(Unit.code, ReportSnapshot.version)).all()
    return {code: {"id": public_id, "hash": digest, "version": version}
            for code, public_id, digest, version in rows}  # the last version wins


def _comparable(content: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in content.items() if k not in {"version", "locked_at", "locked_by"}}


# Reads ---------------------------------------------------------------------------------------

def get_viewed_unit(actor: User | None, code: str) -> Unit:
    """A unit whose subtree the actor may see. Raises NotFound otherwise."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.VIEW_UNIT, unit):
        raise NotFound()
    return unit


def get_lockable_unit(actor: User | None, code: str) -> Unit:
    """A unit the actor may lock (MANAGE_UNITS: officers of the administrative tree, admins of
    schools and agencies). Raises NotFound otherwise."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.MANAGE_UNITS, unit):
        raise NotFound()
    return unit


def latest_snapshot(unit_id: int, period: str) -> ReportSnapshot | None:
    return session.execute(
        select(ReportSnapshot).where(ReportSnapshot.unit_id == unit_id,
                                     ReportSnapshot.period == period)
        .order_by(ReportSnapshot.version.desc()).limit(1)).scalar_one_or_none()


def get_snapshot(actor: User | None, public_id: str) -> ReportSnapshot:
    """A snapshot of a unit in the actor's VIEW_UNIT scope (parents read their children's).
    Raises NotFound otherwise."""
    found = session.execute(
        select(ReportSnapshot).join(Unit, Unit.id == ReportSnapshot.unit_id)
        .where(ReportSnapshot.public_id == public_id,
               policy.unit_filter(actor, policy.Permission.VIEW_UNIT))).scalar_one_or_none()
    if found is None:
        raise NotFound()
    return found


def unit_snapshots(unit: Unit, period: str | None = None) -> Select[tuple[ReportSnapshot]]:
    """A unit's snapshots, newest period and version first (the caller checked the scope)."""
    query = select(ReportSnapshot).where(ReportSnapshot.unit_id == unit.id)
    if period is not None:
        query = query.where(ReportSnapshot.period == period)
    return query.order_by(ReportSnapshot.period.desc(), ReportSnapshot.version.desc())


def recent_unit_snapshots(unit: Unit, limit: int = 500) -> list[ReportSnapshot]:
    return list(session.execute(unit_snapshots(unit).limit(limit)).scalars())


def list_snapshots(actor: User | None, unit_code: str,
                   period: str | None = None) -> Select[tuple[ReportSnapshot]]:
    """Raises NotFound when the unit is out of the actor's VIEW_UNIT scope."""
    return unit_snapshots(get_viewed_unit(actor, unit_code), period)


def superseded(snapshot: ReportSnapshot) -> ReportSnapshot | None:
    if snapshot.supersedes_id is None:
        return None
    return session.get(ReportSnapshot, snapshot.supersedes_id)


def describe(snapshots: list[ReportSnapshot]) -> list[dict[str, Any]]:
    """Plain views of snapshots for schemas and templates (no live data but the public id of
    the version each one supersedes)."""
    earlier = {s.supersedes_id for s in snapshots if s.supersedes_id is not None}
    public = dict(session.execute(select(ReportSnapshot.id, ReportSnapshot.public_id).where(
        ReportSnapshot.id.in_(earlier))).all()) if earlier else {}
    return [{"id": s.public_id, "unit_code": s.content["unit"]["code"],
             "unit_name": s.content["unit"]["name"], "period": s.period,
             "version": s.version, "locked_at": s.locked_at,
             "locked_by": s.content.get("locked_by"), "content_hash": s.content_hash,
             "supersedes": public.get(s.supersedes_id), "note": s.note}
            for s in snapshots]


def detail(snapshot: ReportSnapshot) -> dict[str, Any]:
    """describe() plus the content, and the diff against the superseded version."""
    previous = superseded(snapshot)
    return {**describe([snapshot])[0], "content": snapshot.content,
            "diff": diff(previous.content, snapshot.content) if previous else None}


# Diff ----------------------------------------------------------------------------------------

def _changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    old, new = old or {}, new or {}
    return {field: {"old": old.get(field), "new": new.get(field)} for field in FIGURE_FIELDS
            if old.get(field) != new.get(field)}


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed from one version's content to another's: the unit's figures, the
    courses, and per child code its figures (children added and removed too) and the child
    snapshot it refers to. {"figures": {field: {old, new}}, "courses": {added, removed},
    "children": [{code, name, change: added|removed|changed, figures, snapshot?}]}."""
    old_courses, new_courses = set(old.get("courses", ())), set(new.get("courses", ()))
    before = {c["code"]: c for c in old.get("children", ())}
    after = {c["code"]: c for c in new.get("children", ())}
    children = []
    for code in sorted(before.keys() | after.keys()):
        was, now = before.get(code), after.get(code)
        change = "added" if was is None else "removed" if now is None else "changed"
        row: dict[str, Any] = {
            "code": code, "name": (now or was or {}).get("name"), "change": change,
            "figures": _changes(was and was.get("figures"), now and now.get("figures"))}
        was_snapshot = was.get("snapshot") if was else None
        now_snapshot = now.get("snapshot") if now else None
        if was_snapshot != now_snapshot:
            row["snapshot"] = {"old": was_snapshot, "new": now_snapshot}
        if change != "changed" or row["figures"] or "snapshot" in row:
            children.append(row)
    return {"figures": _changes(old.get("figures"), new.get("figures")),
            "courses": {"added": sorted(new_courses - old_courses),
                        "removed": sorted(old_courses - new_courses)},
            "children": children}


# Lock ----------------------------------------------------------------------------------------

def new_public_id() -> str:
    """128 random bits, URL-safe, never starting with "-": a spreadsheet would take a cell
    beginning with "-" for a formula, so exports would have to quote it (and did, at random)."""
    while True:
        candidate = secrets.token_urlsafe(16)
        if candidate[0] != "-":
            return candidate


def lock(actor: User | None, unit_code: str, period: str,
         note: str | None = None) -> ReportSnapshot:
    """Lock the unit's figures for period as a new, immutable snapshot; flush, never commit.

    The snapshot holds the figures at the moment of locking, whatever the period: a
    completion recorded after the lock is not in it and shows in the next period's snapshot
    ("late completions land in P+1"). Each child's entry refers to the child's latest
    locked version for the same period, by public id and hash.

    Locking a unit and period already locked is a correction: it needs a note, becomes
    version n + 1 and supersedes version n. A retried correction (same note, same figures)
    returns the version it created instead of another one.

    Raises NotFound (unit out of the actor's MANAGE_UNITS scope), ValidationFailed on
    `period` (not YYYY-MM, before 2020, in the future) or on `note` (a correction without
    one), Conflict (a simultaneous lock took this version number first)."""
    unit = get_lockable_unit(actor, unit_code)
    now = utcnow().replace(microsecond=0)
    today = now.astimezone(LOCAL_ZONE).date()
    check_period(period, today)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(errors={"note": [_("The note is too long.")]})
    # PostgreSQL: one lock at a time per unit (SQLite takes its write lock with the request).
    session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    previous = latest_snapshot(unit.id, period)
    if previous is not None and note is None:
        raise ValidationFailed(errors={"note": [
            _("This month is already locked: say why it is corrected.")]})
    content = figures_content(unit_figures(unit, today))
    children = _children_snapshots(unit, period)
    for child in content["children"]:
        if child["code"] != unit.code:  # the row of people sitting on the unit itself
            child["snapshot"] = children.get(child["code"])
    if (previous is not None and previous.note == note
            and _comparable(previous.content) == _comparable({**content, "period": period})):
        return previous
    version = previous.version + 1 if previous else 1
    content.update(period=period, version=version, locked_at=now.isoformat(),
                   locked_by=actor.full_name if actor is not None else None)
    snapshot = ReportSnapshot(
        public_id=new_public_id(), unit_id=unit.id, period=period, version=version,
        locked_at=now, locked_by_id=actor.id if actor is not None else None, content=content,
        content_hash=content_hash(content), supersedes_id=previous.id if previous else None,
        note=note)
    try:
        with session.begin_nested():
            session.add(snapshot)
    except IntegrityError as exc:
        raise Conflict(_("Someone locked this month at the same moment. Reload and check "
                         "before locking again.")) from exc
    record("snapshots.lock", unit=unit, target=f"{period} v{version}", actor=actor,
           details={"snapshot": snapshot.public_id, "content_hash": snapshot.content_hash[:16]})
    return snapshot


# Submissions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    """Where a child unit stands for a period: its latest snapshot and whether its first
    version came in by the deadline (on_time), after it (late), or not at all (missing)."""

    code: str
    name: str
    kind: str
    status: str
    deadline: datetime
    snapshot_id: str | None = None
    version: int | None = None
    locked_at: datetime | None = None
    first_locked_at: datetime | None = None

    @property
    def snapshot(self) -> dict[str, Any] | None:
        if self.snapshot_id is None:
            return None
        return {"id": self.snapshot_id, "version": self.version, "locked_at": self.locked_at}


def submissions(actor: User | None, unit_code: str, period: str) -> list[Submission]:
    """For each active child unit of the unit, its submission for period. Raises NotFound
    (unit out of the actor's VIEW_UNIT scope), ValidationFailed on `period`."""
    unit = get_viewed_unit(actor, unit_code)
    check_period(period, local_today())
    due = deadline(period)
    children = session.execute(select(Unit).where(
        Unit.parent_id == unit.id, Unit.is_active.is_(True)).order_by(Unit.code)).scalars()
    rows = session.execute(
        select(ReportSnapshot.unit_id, ReportSnapshot.public_id, ReportSnapshot.version,
               ReportSnapshot.locked_at)
        .join(Unit, Unit.id == ReportSnapshot.unit_id)
        .where(Unit.parent_id == unit.id, ReportSnapshot.period == period)
        .order_by(ReportSnapshot.unit_id, ReportSnapshot.version)).all()
    first: dict[int, datetime] = {}
    last: dict[int, tuple[str, int, datetime]] = {}
    for unit_id, public_id, version, locked_at in rows:
        first.setdefault(unit_id, locked_at)
        last[unit_id] = (public_id, version, locked_at)
    found = []
    for child in children:
        if child.id not in last:
            found.append(Submission(child.code, child.name, child.kind.value, "missing", due))
            continue
        public_id, version, locked_at = last[child.id]
        status = "on_time" if first[child.id] < due else "late"
        found.append(Submission(child.code, child.name, child.kind.value, status, due,
                                public_id, version, locked_at, first[child.id]))
    return found
