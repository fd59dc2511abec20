"""Completion figures for a unit and each of its children, summed from the leaf counters
(enrollment/reports/counters.py) in one range scan per unit. Counting rules: docs/figures.md.

A figure counts requirements: one per person on an active roster and course assigned to
them. For one course that is people; for several courses a person counts once per course.
Overdue is a part of the not completed (in progress or not started after the due date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from enrollment.reports.counters import path_high
from enrollment.reports.documents import Figures
from enrollment.reports.models import CompletionCounter as C
from lms import policy
from lms.db import session
from lms.errors import NotFound
from lms.people.models import User
from lms.units.models import Unit, subtree_bounds
from lms.units.queries import get_unit

ZERO = Figures(0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    figures: Figures


@dataclass(frozen=True)
class UnitFigures:
    unit: Unit
    courses: tuple[str, ...]
    today: date
    figures: Figures
    children: tuple[UnitRow, ...]  # the unit's children, and itself when people sit on it


def _sums(today: date) -> list[ColumnElement]:
    def total(expression: ColumnElement) -> ColumnElement:
        return func.coalesce(func.sum(expression), 0)

    late = C.due_on < today
    return [total(C.expected), total(C.completed), total(C.started),
            total(C.expected - C.completed - C.started),
            total(case((late, C.expected - C.completed), else_=0)), total(C.exempt)]


def _figures(row) -> Figures:
    expected, completed, started, not_started, overdue, exempt = (int(v) for v in row)
    return Figures(expected=expected, completed=completed, in_progress=started,
                   not_started=not_started, overdue=overdue, exempt=exempt)


def _courses(condition: ColumnElement, courses: list[str] | None) -> ColumnElement:
    return and_(condition, C.course_code.in_(courses)) if courses is not None else condition


def assigned_courses(unit: Unit) -> tuple[str, ...]:
    """The course codes assigned anywhere in the unit's subtree (those with counters)."""
    low, high = subtree_bounds(unit.path)
    return tuple(session.execute(select(C.course_code).where(
        C.unit_path >= low, C.unit_path < high).distinct().order_by(C.course_code)).scalars())


def unit_figures(unit: Unit, today: date, courses: list[str] | None = None) -> UnitFigures:
    """The unit's figures and each child's; children always sum to the unit. The caller has
    checked the unit is in the actor's scope (see figures_for)."""
    low, high = subtree_bounds(unit.path)
    sums = _sums(today)
    total = session.execute(select(*sums).where(
        _courses(and_(C.unit_path >= low, C.unit_path < high), courses))).one()
    child = aliased(Unit, name="child")
    rows = session.execute(
        select(child.code, child.name, child.kind, *sums).select_from(child)
        .outerjoin(C, _courses(and_(C.unit_path >= child.path,
                                    C.unit_path < path_high(child.path)), courses))
        .where(child.parent_id == unit.id)
        .group_by(child.id, child.code, child.name, child.kind).order_by(child.code)).all()
    children = [UnitRow(code, name, kind.value, _figures(values))
                for code, name, kind, *values in rows]
    own = session.execute(select(*sums).where(
        _courses(C.unit_id == unit.id, courses))).one()
    if any(own):
        children.append(UnitRow(unit.code, unit.name, unit.kind.value, _figures(own)))
    return UnitFigures(unit=unit, courses=tuple(courses) if courses is not None
                       else assigned_courses(unit), today=today, figures=_figures(total),
                       children=tuple(children))


def figures_for(actor: User | None, code: str, today: date,
                courses: list[str] | None = None) -> UnitFigures:
    """Figures of a unit the actor may see the subtree of. Raises NotFound otherwise."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.VIEW_UNIT, unit):
        raise NotFound()
    return unit_figures(unit, today, courses)


def live_children(unit: Unit, today: date) -> dict[str, Figures]:
    """The same per-child figures computed from enrolments (no counters): the reference that
    tests and the benchmark compare unit_figures with."""
    from enrollment.reports.counters import leaf, live

    low, high = subtree_bounds(unit.path)
    rows = live(and_(leaf.path >= low, leaf.path < high)).subquery("rows")
    child = aliased(Unit, name="child")
    late = rows.c.due_on < today

    def total(expression: ColumnElement) -> ColumnElement:
        return func.coalesce(func.sum(expression), 0)

    found = session.execute(
        select(child.code, total(rows.c.expected), total(rows.c.completed),
               total(rows.c.started), total(rows.c.expected - rows.c.completed - rows.c.started),
               total(case((late, rows.c.expected - rows.c.completed), else_=literal(0))),
               total(rows.c.exempt))
        .select_from(child)
        .join(rows, and_(rows.c.unit_path >= child.path,
                         rows.c.unit_path < path_high(child.path)))
        .where(child.parent_id == unit.id).group_by(child.code)).all()
    return {code: _figures(values) for code, *values in found}
