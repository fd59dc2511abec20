"""Keeping completion counters exact. Every change that can move a figure (an enrolment, a
completion, a roster import, an exemption, a link, an assignment) recomputes the counters of
the leaf units it touches from the base tables, in its own transaction: recomputing a class
is a few dozen rows, and a recomputation cannot drift the way increments can.

Concurrency: two learners of one class completing at once must not overwrite each other's
count. On PostgreSQL a refresh first takes a transaction-level advisory lock per leaf unit
(after ROW EXCLUSIVE on the counters, which a whole-subtree refresh excludes with SHARE ROW
EXCLUSIVE), then computes: under READ COMMITTED each statement sees what committed before it,
so the second refresh counts the first one's completion. SQLite has one writer at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import aliased

from courses.models import Audience, Course
from enrollment.assignments.models import Assignment
from enrollment.models import Enrollment
from enrollment.reports.models import CompletionCounter
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.db import session
from lms.units.models import Unit, UnitKind, subtree_bounds

STUDENT_KINDS = [UnitKind.CLASS.value, UnitKind.SCHOOL.value]
SERVANT_KINDS = [UnitKind.DEPARTMENT.value, UnitKind.AGENCY.value]
LOCK_NAMESPACE = 7341  # pg_advisory_xact_lock(namespace, unit id)

leaf = aliased(Unit, name="leaf")
owner = aliased(Unit, name="owner")


def path_high(path: ColumnElement) -> ColumnElement:
    """SQL for subtree_bounds(path)[1]: the path with its final "/" replaced by "0"."""
    return func.substr(path, 1, func.length(path) - 1).op("||")(literal("0"))


def _audience_fits(audience: ColumnElement) -> ColumnElement:
    return or_(audience == Audience.EVERYONE,
               and_(audience == Audience.STUDENTS, leaf.kind.in_(STUDENT_KINDS)),
               and_(audience == Audience.PUBLIC_SERVANTS, leaf.kind.in_(SERVANT_KINDS)))


def coverage(units: ColumnElement, courses: Sequence[str] | None = None) -> Select:
    """Per leaf unit matching `units` (a condition on `leaf`) and assigned course code:
    (unit_id, unit_path, course_code, due_on), the due date being the earliest of the active
    assignments whose subtree holds the unit and whose audience fits it.

    The active assignments come first, as a small materialised set with their subtrees' path
    bounds: every leaf then meets a handful of them. Joined the other way round, SQLite walks,
    for every leaf, the path index over every unit sorting before it (seconds per 100,000
    learners as soon as two courses are asked for)."""
    owners = (select(Assignment.course_code, Assignment.due_on, Assignment.audience,
                     owner.path.label("low"), path_high(owner.path).label("high"))
              .join(owner, owner.id == Assignment.unit_id)
              .where(Assignment.withdrawn_at.is_(None)))
    if courses is not None:
        owners = owners.where(Assignment.course_code.in_(list(courses)))
    owners = owners.cte("owners").prefix_with("MATERIALIZED")
    return (select(leaf.id.label("unit_id"), leaf.path.label("unit_path"),
                   owners.c.course_code.label("course_code"),
                   func.min(owners.c.due_on).label("due_on"))
            .select_from(owners)
            .join(leaf, and_(leaf.path >= owners.c.low, leaf.path < owners.c.high))
            .where(units, _audience_fits(owners.c.audience))
            .group_by(leaf.id, leaf.path, owners.c.course_code))


def newest_enrolments(users: Select, courses: Sequence[str] | None = None) -> Subquery:
    """The enrolments of `users` (a select of user ids) per course code, ranked newest first:
    (user_id, course_code, completed_at, rank); join on rank 1. A learner's current enrolment
    in a course is the newest one of any version: after a re-enrolment, an older completion
    is history, not the current state."""
    query = (select(Enrollment.user_id, Course.code.label("course_code"),
                    Enrollment.completed_at,
                    func.row_number().over(
                        partition_by=(Enrollment.user_id, Course.code),
                        order_by=(Enrollment.started_at.desc(), Enrollment.id.desc()))
                    .label("rank"))
             .join(Course, Course.id == Enrollment.course_id)
             .where(Enrollment.user_id.in_(users)))
    if courses is not None:
        query = query.where(Course.code.in_(list(courses)))
    return query.subquery("newest")


def live(units: ColumnElement, courses: list[str] | None = None) -> Select:
    """Counter rows computed from the base tables for the leaf units matching `units` (a
    condition on `leaf`): (unit_id, course_code, unit_path, expected, completed, started,
    exempt, due_on). This is also the reference the benchmark and tests compare with."""
    cover = coverage(units, courses).subquery("cover")
    people = (select(RosterEntry.user_id).join(leaf, leaf.id == RosterEntry.unit_id)
              .where(units, RosterEntry.user_id.is_not(None)))
    newest = newest_enrolments(people)
    active = RosterEntry.status == EntryStatus.ACTIVE

    def count(condition: ColumnElement) -> ColumnElement:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (select(cover.c.unit_id, cover.c.course_code, cover.c.unit_path,
                   count(active).label("expected"),
                   count(and_(active, newest.c.completed_at.is_not(None))).label("completed"),
                   count(and_(active, newest.c.user_id.is_not(None),
                              newest.c.completed_at.is_(None))).label("started"),
                   count(RosterEntry.status == EntryStatus.EXEMPT).label("exempt"),
                   func.min(cover.c.due_on).label("due_on"))
            .select_from(cover)
            .join(RosterEntry, and_(RosterEntry.unit_id == cover.c.unit_id,
                                    RosterEntry.status != EntryStatus.LEFT))
            .outerjoin(newest, and_(newest.c.user_id == RosterEntry.user_id,
                                    newest.c.course_code == cover.c.course_code,
                                    newest.c.rank == 1))
            .group_by(cover.c.unit_id, cover.c.course_code, cover.c.unit_path))


COLUMNS = ["unit_id", "course_code", "unit_path", "expected", "completed", "started", "exempt",
           "due_on"]


def _replace(units: ColumnElement, unit_ids: Select | list[int],
             courses: list[str] | None) -> None:
    gone = delete(CompletionCounter).where(CompletionCounter.unit_id.in_(unit_ids))
    if courses is not None:
        gone = gone.where(CompletionCounter.course_code.in_(courses))
    session.execute(gone)
    session.execute(insert(CompletionCounter).from_select(COLUMNS, live(units, courses)))


def _postgres() -> bool:
    return session.get_bind().dialect.name == "postgresql"


def refresh_units(unit_ids: Iterable[int], courses: list[str] | None = None) -> None:
    """Recompute the counters of these leaf units (a learner's classes, one entry's class)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return
    if _postgres():
        session.execute(text("LOCK TABLE completion_counters IN ROW EXCLUSIVE MODE"))
        for unit_id in ids:  # sorted: two refreshes never wait on each other in a cycle
            session.execute(text("SELECT pg_advisory_xact_lock(:ns, :id)"),
                            {"ns": LOCK_NAMESPACE, "id": unit_id})
    _replace(leaf.id.in_(ids), ids, courses)
    session.flush()


def refresh_subtree(unit: Unit) -> None:
    """Recompute every counter under a unit (a roster import, an assignment, a demo load)."""
    if _postgres():
        session.execute(text("LOCK TABLE completion_counters IN SHARE ROW EXCLUSIVE MODE"))
    low, high = subtree_bounds(unit.path)
    within = and_(leaf.path >= low, leaf.path < high)
    _replace(within, select(Unit.id).where(Unit.path >= low, Unit.path < high), None)
    session.flush()


def refresh_for_user(user_id: int, course_code: str | None = None) -> None:
    """After a learner's enrolment or completion: the counters of the units they are on."""
    unit_ids = session.execute(select(RosterEntry.unit_id).where(
        RosterEntry.user_id == user_id, RosterEntry.status != EntryStatus.LEFT)).scalars()
    refresh_units(list(unit_ids), [course_code] if course_code else None)
