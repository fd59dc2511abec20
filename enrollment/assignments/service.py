"""Writes of assignments and the automatic enrolment they cause. Flush only; the request
commits (STYLE.md rule 3)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from courses.models import Audience
from enrollment import service as enrollment_service
from enrollment.assignments import queries
from enrollment.assignments.models import Assignment
from enrollment.models import Enrollment
from enrollment.reports import counters
from lms import policy
from lms.audit.service import record
from lms.db import session, utcnow
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people.models import User
from lms.units.models import Unit


def create_assignment(actor: User | None, unit_code: str, course_codes: list[str],
                      audience: Audience, start_on: date, due_on: date) -> list[Assignment]:
    """One assignment per course. Raises NotFound when the unit is invisible or the actor may
    not manage it; ValidationFailed for an unknown course, a course of another audience, a
    due date before the start or an audience the unit cannot hold; Conflict when the same
    course is already assigned to the unit for that audience (nothing is written then)."""
    unit = queries.get_managed_unit(actor, unit_code)
    codes = list(dict.fromkeys(course_codes))
    errors: dict[str, list[str]] = {}
    if due_on < start_on:
        errors["due_on"] = [_("The due date is before the start date.")]
    if not queries.audience_fits(audience, unit.kind):
        errors["audience"] = [_("This audience does not fit this unit.")]
    courses = queries.latest_courses_by_code(codes)
    unknown = [code for code in codes if code not in courses]
    other = [code for code in codes if code in courses
             and courses[code].audience not in (Audience.EVERYONE, audience)]
    if unknown:
        errors.setdefault("course_codes", []).append(
            _("Unknown course: %(codes)s", codes=", ".join(unknown)))
    if other:
        errors.setdefault("course_codes", []).append(
            _("Not for this audience: %(codes)s", codes=", ".join(other)))
    if errors:
        raise ValidationFailed(errors=errors)
    taken = queries.find_active_duplicates(unit, codes, audience)
    if taken:
        message = _("Already assigned: %(codes)s", codes=", ".join(taken))
        raise Conflict(message, errors={"course_codes": [message]})
    rows = [Assignment(unit_id=unit.id, course_code=code, audience=audience, start_on=start_on,
                       due_on=due_on, created_by_id=getattr(actor, "id", None))
            for code in codes]
    session.add_all(rows)
    session.flush()
    counters.refresh_subtree(unit)
    record("assignments.create", unit=unit, target=",".join(str(r.id) for r in rows), actor=actor,
           details={"courses": codes, "audience": str(audience), "due_on": due_on})
    return rows


def withdraw_assignment(actor: User | None, assignment_id: int) -> Assignment:
    """Withdraw once (a repeated withdrawal changes nothing). Raises NotFound when the
    assignment does not exist or its unit is outside what the actor may manage."""
    row = session.execute(
        select(Assignment).join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.id == assignment_id,
               policy.unit_filter(actor, policy.Permission.MANAGE_UNITS))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    if row.withdrawn_at is None:
        row.withdrawn_at = utcnow()
        session.flush()
        counters.refresh_subtree(session.get(Unit, row.unit_id))
        record("assignments.withdraw", unit=row.unit_id, target=str(row.id), actor=actor,
               details={"course": row.course_code})
    return row


def enroll_assigned(user: User) -> list[Enrollment]:
    """Enrol the learner in every assigned course they have not started. A course the
    learner may not take (unpublished, or an audience their roles do not give) is skipped:
    the assignment still shows, as not started."""
    started = []
    for view in queries.assignments_for_learner(user):
        if view["state"] in ("in_progress", "completed"):
            continue  # overdue may or may not be started; enroll() keeps an existing one
        try:
            started.append(enrollment_service.enroll(user, view["course_code"]))
        except NotFound:
            continue
    return started
