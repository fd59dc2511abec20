"""Reads of the audit log, scoped in SQL by the policy on the event's unit path: a reader sees
the events of units they may see people in; the system admin sees everything, including the
events of no unit (a sign-in without a role, a CLI command)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select

from lms import policy
from lms.audit.models import AuditEvent
from lms.db import session
from lms.errors import NotFound
from lms.people.models import User
from lms.units import queries as unit_queries
from lms.units.models import Unit, subtree_bounds

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
READ = policy.Permission.VIEW_PEOPLE  # the events name people (actors): same permission


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    since: date | None = None  # local dates, both inclusive
    until: date | None = None


def get_audited_unit(actor: User | None, code: str) -> Unit:
    """A unit whose audit log the actor may read. Raises NotFound otherwise (never 403)."""
    unit = unit_queries.get_unit(code, actor)
    if not policy.can(actor, READ, unit):
        raise NotFound()
    return unit


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_ZONE)


def events(actor: User | None, unit: Unit, wanted: AuditFilter) -> Select[tuple[AuditEvent]]:
    """Events of the unit's subtree that the actor may read, newest first."""
    low, high = subtree_bounds(unit.path)
    in_subtree = and_(AuditEvent.unit_path >= low, AuditEvent.unit_path < high)
    if unit.parent_id is None and policy.subtree_roots(actor, READ) is None:
        in_subtree = or_(in_subtree, AuditEvent.unit_path.is_(None))  # system admin, root
    # The policy's own filter as well (true() for the system admin): scope in the query.
    query = select(AuditEvent).where(in_subtree,
                                     policy.unit_filter(actor, READ, AuditEvent.unit_path))
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.since:
        query = query.where(AuditEvent.at >= local_midnight(wanted.since))
    if wanted.until:
        query = query.where(AuditEvent.at < local_midnight(wanted.until + timedelta(days=1)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def unit_codes(paths: set[str | None]) -> dict[str, tuple[str, str]]:
    """path → (code, current name) of the events' units, for display and the CSV."""
    wanted = [p for p in paths if p]
    if not wanted:
        return {}
    rows = session.execute(select(Unit.path, Unit.code, Unit.name).where(Unit.path.in_(wanted)))
    return {path: (code, name) for path, code, name in rows}


def event_views(items: list[AuditEvent]) -> list[dict]:
    """Plain rows for the page, the API and the CSV, with the unit's code and name."""
    units = unit_codes({e.unit_path for e in items})
    rows = []
    for e in items:
        # codes never change: the path names the unit even if it was removed since
        code = e.unit_path.strip("/").rsplit("/", 1)[-1] if e.unit_path else None
        name = units.get(e.unit_path or "", (None, None))[1]
        rows.append({"id": e.id, "at": e.at, "actor_id": e.actor_id, "actor_name": e.actor_name,
                     "action": e.action, "unit_code": code, "unit_name": name,
                     "target": e.target, "details": e.details or {},
                     "request_id": e.request_id, "ip": e.ip})
    return rows
