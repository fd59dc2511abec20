"""The people under a unit and the state of each course assigned to them, computed in SQL
by the same rules as the counters (enrollment/reports/counters.py): roster entries that have
not left, the learner's newest enrolment per course code, and the earliest due date of the
active assignments covering the entry's unit with a fitting audience. Reused by exports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select

from enrollment.reports.counters import coverage, leaf, newest_enrolments
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms import policy
from lms.db import session
from lms.errors import NotFound
from lms.people.models import User
from lms.units.models import Unit, subtree_bounds
from lms.units.queries import get_unit

NOT_COMPLETED = ("not_started", "in_progress", "overdue")


def get_people_unit(actor: User | None, code: str) -> Unit:
    """A unit whose people the actor may list. Raises NotFound otherwise (never 403)."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.VIEW_PEOPLE, unit):
        raise NotFound()
    return unit


def _state(entry_status: ColumnElement, completed_at: ColumnElement,
           enrolled: ColumnElement, due_on: ColumnElement, today: date) -> ColumnElement:
    return case((entry_status == EntryStatus.EXEMPT, literal("exempt")),
                (completed_at.is_not(None), literal("completed")),
                (due_on < today, literal("overdue")),
                (enrolled.is_not(None), literal("in_progress")),
                else_=literal("not_started"))


def people_rows(unit: Unit, today: date, courses: Sequence[str] | None = None,
                state: str = "all") -> Select[Any]:
    """One row per (roster entry, course assigned to that person) in the unit's subtree:
    entry_id, full_name, personal_id_masked, unit_code, unit_name, status, course_code,
    due_on, state (not_started | in_progress | completed | overdue | exempt). Entries that
    left are not listed. `state` filters the rows: not_completed | completed | exempt | all.
    Ordered by class (unit name), then name. The caller has checked VIEW_PEOPLE on the unit."""
    low, high = subtree_bounds(unit.path)
    within = and_(leaf.path >= low, leaf.path < high)
    cover = coverage(within, courses).subquery("cover")
    people = (select(RosterEntry.user_id).join(leaf, leaf.id == RosterEntry.unit_id)
              .where(within, RosterEntry.user_id.is_not(None)))
    newest = newest_enrolments(people)
    state_column = _state(RosterEntry.status, newest.c.completed_at, newest.c.user_id,
                          cover.c.due_on, today).label("state")
    rows = (select(RosterEntry.id.label("entry_id"), RosterEntry.full_name,
                   RosterEntry.personal_id_masked, Unit.code.label("unit_code"),
                   Unit.name.label("unit_name"), RosterEntry.status.label("status"),
                   cover.c.course_code, cover.c.due_on, state_column)
            .select_from(cover)
            .join(RosterEntry, and_(RosterEntry.unit_id == cover.c.unit_id,
                                    RosterEntry.status != EntryStatus.LEFT))
            .join(Unit, Unit.id == RosterEntry.unit_id)
            .outerjoin(newest, and_(newest.c.user_id == RosterEntry.user_id,
                                    newest.c.course_code == cover.c.course_code,
                                    newest.c.rank == 1)))
    if state == "not_completed":
        rows = rows.where(state_column.in_(NOT_COMPLETED))
    elif state != "all":
        rows = rows.where(state_column == state)
    return rows.order_by(Unit.name, Unit.code, RosterEntry.full_name, RosterEntry.id,
                         cover.c.course_code)


def people_page(unit: Unit, today: date, *, courses: Sequence[str] | None = None,
                state: str = "not_completed", page: int = 1,
                per_page: int = 100) -> dict[str, Any]:
    """{"items": [person with every course state], "meta"}: people with at least one course
    in `state`, paginated by person. The caller has checked VIEW_PEOPLE on the unit."""
    matching = people_rows(unit, today, courses, state).subquery("matching")
    people = (select(matching.c.entry_id, matching.c.unit_name, matching.c.unit_code,
                     matching.c.full_name).distinct())
    total = session.execute(select(func.count()).select_from(people.subquery())).scalar_one()
    ids = list(session.execute(
        people.order_by(matching.c.unit_name, matching.c.unit_code, matching.c.full_name,
                        matching.c.entry_id)
        .limit(per_page).offset((page - 1) * per_page)).scalars())
    items: dict[int, dict[str, Any]] = {entry_id: {} for entry_id in ids}
    if ids:
        every = people_rows(unit, today, courses).where(RosterEntry.id.in_(ids))
        for row in session.execute(every).mappings():
            person = items[row["entry_id"]]
            if not person:
                person.update(entry_id=row["entry_id"], full_name=row["full_name"],
                              personal_id_masked=row["personal_id_masked"],
                              unit_code=row["unit_code"], unit_name=row["unit_name"],
                              status=EntryStatus(row["status"]).value, courses=[])
            person["courses"].append({"course_code": row["course_code"],
                                      "due_on": row["due_on"], "state": row["state"]})
    return {"items": [items[i] for i in ids],
            "meta": {"page": page, "per_page": per_page, "total": total}}
