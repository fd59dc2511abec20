"""Reads of assignments: a unit's own and inherited ones (scoped by lms.policy), and a
learner's, derived from their active roster entries and the audience each entry implies."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, select

from courses.models import Audience, Course
from enrollment.assignments.models import Assignment
from enrollment.models import Enrollment
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms import policy
from lms.db import session
from lms.errors import NotFound
from lms.i18n import localized
from lms.people.models import User
from lms.units.models import Unit, UnitKind
from lms.units.queries import get_unit

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
STUDENT_KINDS = frozenset({UnitKind.CLASS, UnitKind.SCHOOL})
SERVANT_KINDS = frozenset({UnitKind.AGENCY, UnitKind.DEPARTMENT})
# The administrative tree (ministry, province, commune) holds both schools and agencies.
UNIT_AUDIENCES: dict[UnitKind, frozenset[Audience]] = {
    kind: frozenset({Audience.EVERYONE, Audience.STUDENTS, Audience.PUBLIC_SERVANTS})
    for kind in UnitKind}
UNIT_AUDIENCES.update({kind: frozenset({Audience.EVERYONE, Audience.STUDENTS})
                       for kind in STUDENT_KINDS})
UNIT_AUDIENCES.update({kind: frozenset({Audience.EVERYONE, Audience.PUBLIC_SERVANTS})
                       for kind in SERVANT_KINDS})


def today_local() -> date:
    """Due dates are Vietnamese calendar days."""
    return datetime.now(LOCAL_ZONE).date()


def audience_fits(audience: Audience, kind: UnitKind) -> bool:
    return audience in UNIT_AUDIENCES[kind]


def entry_audiences(kind: UnitKind) -> frozenset[Audience]:
    """What a roster entry under a unit of this kind is: a student, a public servant."""
    if kind in STUDENT_KINDS:
        return frozenset({Audience.EVERYONE, Audience.STUDENTS})
    if kind in SERVANT_KINDS:
        return frozenset({Audience.EVERYONE, Audience.PUBLIC_SERVANTS})
    return frozenset({Audience.EVERYONE})


def latest_courses_by_code(codes: list[str]) -> dict[str, Course]:
    """The latest published version of each code that exists (no content loaded)."""
    found: dict[str, Course] = {}
    if not codes:
        return found
    rows = session.execute(select(Course).where(Course.code.in_(codes),
                                                Course.is_published.is_(True))
                           .order_by(Course.code, Course.version.desc())).scalars()
    for course in rows:
        found.setdefault(course.code, course)
    return found


def _title(courses: dict[str, Course], code: str) -> str:
    course = courses.get(code)
    return localized(course.title_vi, course.title_en) if course else code


def get_managed_unit(actor: User | None, code: str) -> Unit:
    """A unit the actor may assign to. Raises NotFound when it is invisible or out of scope."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.MANAGE_UNITS, unit):
        raise NotFound()
    return unit


def get_viewed_unit(actor: User | None, code: str) -> Unit:
    """A unit whose assignments the actor may list. Raises NotFound otherwise."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.VIEW_UNIT, unit):
        raise NotFound()
    return unit


def unit_assignments(unit: Unit) -> Select[tuple[Assignment]]:
    """Active assignments of the unit and of every unit above it (people added later inherit
    them); the caller has already checked the unit is in scope."""
    chain = select(Unit.id).where(Unit.code.in_([*unit.ancestor_codes, unit.code]))
    return (select(Assignment).where(Assignment.unit_id.in_(chain),
                                     Assignment.withdrawn_at.is_(None))
            .order_by(Assignment.due_on, Assignment.course_code, Assignment.id))


def assignment_views(rows: list[Assignment], unit_id: int) -> list[dict]:
    """Plain dicts for AssignmentOut, as seen from the unit `unit_id`."""
    units = {u.id: u for u in session.execute(
        select(Unit).where(Unit.id.in_({r.unit_id for r in rows}))).scalars()} if rows else {}
    courses = latest_courses_by_code(sorted({r.course_code for r in rows}))
    return [{"id": r.id, "unit_code": units[r.unit_id].code, "unit_name": units[r.unit_id].name,
             "course_code": r.course_code, "course_title": _title(courses, r.course_code),
             "audience": r.audience.value, "start_on": r.start_on, "due_on": r.due_on,
             "inherited": r.unit_id != unit_id} for r in rows]


def assignments_for_unit(actor: User | None, unit: Unit) -> list[dict]:
    """The unit's own and inherited active assignments. Raises NotFound out of scope."""
    if not policy.can(actor, policy.Permission.VIEW_UNIT, unit):
        raise NotFound()
    return assignment_views(list(session.execute(unit_assignments(unit)).scalars()),
                            unit.id)


def find_active_duplicates(unit: Unit, codes: list[str], audience: Audience) -> list[str]:
    return sorted(set(session.execute(select(Assignment.course_code).where(
        Assignment.unit_id == unit.id, Assignment.course_code.in_(codes),
        Assignment.audience == audience, Assignment.withdrawn_at.is_(None))).scalars()))


def _learner_assignments(user: User) -> dict[str, Assignment]:
    """Per course code, the assignment with the earliest due date among those whose unit
    subtree holds an active roster entry of the user with a matching audience."""
    entries = session.execute(
        select(Unit.path, Unit.kind).join(RosterEntry, RosterEntry.unit_id == Unit.id)
        .where(RosterEntry.user_id == user.id, RosterEntry.status == EntryStatus.ACTIVE)).all()
    if not entries:
        return {}
    codes = {code for path, _ in entries for code in path.strip("/").split("/")}
    candidates = session.execute(
        select(Assignment, Unit.path).join(Unit, Unit.id == Assignment.unit_id)
        .where(Unit.code.in_(sorted(codes)), Assignment.withdrawn_at.is_(None))).all()
    chosen: dict[str, Assignment] = {}
    for assignment, root in candidates:
        if not any(path.startswith(root) and assignment.audience in entry_audiences(kind)
                   for path, kind in entries):
            continue
        best = chosen.get(assignment.course_code)
        if best is None or (assignment.due_on, assignment.id) < (best.due_on, best.id):
            chosen[assignment.course_code] = assignment
    return chosen


def state_of(enrollment: Enrollment | Row | None, due_on: date, today: date) -> str:
    """not_started, in_progress, completed or overdue; enrollment: anything with the newest
    enrolment's completed_at."""
    if enrollment is not None and enrollment.completed_at is not None:
        return "completed"
    if today > due_on:
        return "overdue"
    return "in_progress" if enrollment is not None else "not_started"


def _completion_by_code(user: User, codes: list[str]) -> dict[str, Row]:
    """Per course code, the user's newest enrolment (as enrollment.service counts it) as a
    row with its completed_at: columns only, for the learner's own page."""
    found: dict[str, Row] = {}
    rows = session.execute(
        select(Course.code, Enrollment.completed_at)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user.id, Course.code.in_(codes))
        .order_by(Enrollment.started_at.desc(), Enrollment.id.desc())).all()
    for row in rows:
        found.setdefault(row.code, row)  # the newest
    return found


def _titles(codes: list[str]) -> dict[str, str]:
    """The title of each code's latest published version (latest_courses_by_code, titles
    only)."""
    found: dict[str, str] = {}
    if not codes:
        return found
    rows = session.execute(
        select(Course.code, Course.title_vi, Course.title_en)
        .where(Course.code.in_(codes), Course.is_published.is_(True))
        .order_by(Course.code, Course.version.desc())).all()
    for code, title_vi, title_en in rows:
        found.setdefault(code, localized(title_vi, title_en))
    return found


def assignments_for_learner(user: User) -> list[dict]:
    """The user's assigned courses (LearnerAssignmentOut dicts), earliest due first."""
    chosen = _learner_assignments(user)
    codes = sorted(chosen)
    enrollments, titles = _completion_by_code(user, codes), _titles(codes)
    today = today_local()
    views = [{"course_code": code, "course_title": titles.get(code, code),
              "start_on": a.start_on, "due_on": a.due_on,
              "state": state_of(enrollments.get(code), a.due_on, today)}
             for code, a in chosen.items()]
    return sorted(views, key=lambda v: (v["due_on"], v["course_code"]))
