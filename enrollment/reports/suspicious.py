"""Completions worth a second look, per child unit: too fast (completed in less than 20% of the
course's estimated time) and bunched (more than 90% of a unit's completions of a course on one
Vietnamese calendar day, with at least 20 that day). A live scan of the subtree's completed
enrolments, so only for a commune and the units below it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, case, extract, func, null, select
from sqlalchemy.orm import aliased

from courses.models import Course
from enrollment.models import Enrollment
from enrollment.reports.counters import path_high
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.db import session
from lms.units.models import Unit, UnitKind, subtree_bounds

FAST_SHARE = 0.2  # completed in less than this share of Course.estimated_minutes
BUNCH_SHARE = 0.9  # more than this share of a unit's completions of a course on one day
BUNCH_MIN = 20  # ... with at least this many completions that day
LOCAL_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving since 1975)
SCANNED_KINDS = frozenset({UnitKind.COMMUNE, UnitKind.SCHOOL, UnitKind.CLASS, UnitKind.AGENCY,
                           UnitKind.DEPARTMENT})


@dataclass
class Suspicious:
    fast: int = 0  # completions faster than FAST_SHARE of the estimated time
    completions: int = 0
    bunched: list[tuple[str, date, int]] = field(default_factory=list)  # (course, day, count)


def is_scanned(kind: UnitKind) -> bool:
    """Whether suspicious completions are computed for a unit of this kind (not for a
    province or the ministry: a scan of a million enrolments is not a page view)."""
    return kind in SCANNED_KINDS


def _postgres() -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _seconds(started: ColumnElement, completed: ColumnElement) -> ColumnElement:
    if _postgres():
        return extract("epoch", completed - started)
    return (func.julianday(completed) - func.julianday(started)) * 86400.0


def _local_day(instant: ColumnElement) -> ColumnElement:
    if _postgres():
        return func.date(func.timezone("Asia/Ho_Chi_Minh", instant))
    return func.date(instant, f"+{LOCAL_OFFSET_HOURS} hours")


def _scan(unit: Unit, courses: Sequence[str] | None, by_child: bool) -> list[tuple]:
    """(child code or None, course code, local day, completions, fast ones) rows."""
    low, high = subtree_bounds(unit.path)
    entry_unit = aliased(Unit, name="entry_unit")
    child = aliased(Unit, name="child")
    people = (select(RosterEntry.user_id.label("user_id"),
                     (child.code if by_child else null()).label("child_code"))
              .select_from(RosterEntry)
              .join(entry_unit, entry_unit.id == RosterEntry.unit_id))
    if by_child:
        people = people.outerjoin(child, and_(child.parent_id == unit.id,
                                              entry_unit.path >= child.path,
                                              entry_unit.path < path_high(child.path)))
    people = people.where(entry_unit.path >= low, entry_unit.path < high,
                          RosterEntry.status != EntryStatus.LEFT,
                          RosterEntry.user_id.is_not(None)).distinct().subquery("people")
    fast = _seconds(Enrollment.started_at, Enrollment.completed_at) < (
        Course.estimated_minutes * 60 * FAST_SHARE)
    day = _local_day(Enrollment.completed_at).label("day")
    query = (select(people.c.child_code, Course.code, day, func.count(Enrollment.id),
                    func.coalesce(func.sum(case((fast, 1), else_=0)), 0))
             .select_from(people)
             .join(Enrollment, Enrollment.user_id == people.c.user_id)
             .join(Course, Course.id == Enrollment.course_id)
             .where(Enrollment.completed_at.is_not(None))
             .group_by(people.c.child_code, Course.code, day))
    if courses is not None:
        query = query.where(Course.code.in_(list(courses)))
    return [tuple(row) for row in session.execute(query)]


@dataclass(frozen=True)
class SuspiciousReport:
    total: Suspicious  # the whole unit
    children: dict[str, Suspicious]  # by child unit code
    own: Suspicious  # the people who sit on the unit itself (not under a child)


def suspicious_completions(unit: Unit,
                           courses: Sequence[str] | None = None) -> SuspiciousReport:
    """The unit's and each child's suspicious completions. Counts the completed enrolments
    (of any course version) of people on the subtree's rosters, entries that left excepted;
    a person on two rosters of one unit counts once there. The caller has checked the unit
    is in scope and is_scanned(unit.kind)."""
    found: dict[str | None, Suspicious] = defaultdict(Suspicious)
    days: dict[tuple[str | None, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total_key = "/"  # never a unit code
    for by_child in (True, False):
        for child_code, course_code, local_day, count, quick in _scan(unit, courses, by_child):
            key = child_code if by_child else total_key
            found[key].completions += count
            found[key].fast += int(quick)
            days[(key, course_code)][str(local_day)] += count
    for (key, course_code), per_day in sorted(days.items(), key=lambda item: str(item[0])):
        total = sum(per_day.values())
        for local_day, count in sorted(per_day.items()):
            if count >= BUNCH_MIN and count > BUNCH_SHARE * total:
                found[key].bunched.append((course_code, date.fromisoformat(local_day), count))
    return SuspiciousReport(
        total=found.pop(total_key, Suspicious()), own=found.pop(None, Suspicious()),
        children={code: value for code, value in found.items() if code is not None})
