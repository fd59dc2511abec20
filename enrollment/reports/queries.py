"""Completion against the roster, in SQL, scoped by the unit's path range (STYLE.md rule 6):
expected = active roster entries (exempt and left people are not expected); completed = those
whose linked account completed any version of the course."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from courses.models import Audience, Course
from enrollment.models import Enrollment
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.db import session
from lms.units.models import Unit, UnitKind, subtree_bounds

AUDIENCE_KINDS = {
    Audience.STUDENTS: [UnitKind.CLASS, UnitKind.SCHOOL],
    Audience.PUBLIC_SERVANTS: [UnitKind.DEPARTMENT, UnitKind.AGENCY],
}


@dataclass(frozen=True)
class Completion:
    course_code: str
    expected: int
    completed: int

    @property
    def rate(self) -> float:
        return self.completed / self.expected if self.expected else 0.0


def completion(unit: Unit, course_code: str,
               audience: Audience = Audience.EVERYONE) -> Completion:
    """Expected and completed for one course in the unit's subtree. The caller checks scope."""
    low, high = subtree_bounds(unit.path)
    done = (select(Enrollment.user_id).distinct()
            .join(Course, Course.id == Enrollment.course_id)
            .where(Course.code == course_code, Enrollment.completed_at.is_not(None))
            .subquery())
    query = (select(func.count(RosterEntry.id), func.count(done.c.user_id))
             .select_from(RosterEntry)
             .join(Unit, Unit.id == RosterEntry.unit_id)
             .outerjoin(done, and_(done.c.user_id == RosterEntry.user_id))
             .where(Unit.path >= low, Unit.path < high,
                    RosterEntry.status == EntryStatus.ACTIVE))
    if audience in AUDIENCE_KINDS:
        query = query.where(Unit.kind.in_(AUDIENCE_KINDS[audience]))
    expected, completed = session.execute(query).one()
    return Completion(course_code, expected, completed)
