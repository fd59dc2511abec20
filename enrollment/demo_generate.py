"""Data of this package for `flask demo generate` (benchmarks at province scale): every
generated learner on their class's (or department's) roster, the province's assignments of the
courses that fit students and of those for public servants, and enrolments with varied
progress, all in bulk (one INSERT ... SELECT for the rosters, lms.bulk for the enrolments),
then the province's counters recomputed once. No signal per completion: these enrolments get
no certificates."""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, literal, or_, select, text
from sqlalchemy.orm import aliased

from courses import queries as course_queries
from courses.models import Audience, Course
from enrollment.assignments.models import Assignment
from enrollment.assignments.queries import today_local
from enrollment.models import Enrollment
from enrollment.reports import counters
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.bulk import insert_rows
from lms.db import UtcDateTime, session, utcnow
from lms.people.models import Role, RoleGrant, User
from lms.units.models import Unit, UnitKind, subtree_bounds

MAX_COURSES = 3
# Share of (learner, course) pairs: completed, enrolled and not complete, not enrolled.
OUTCOMES = (("completed", 50), ("started", 25), ("none", 25))
# Due dates relative to today, one per course in code order: the first one is overdue.
DUE_IN_DAYS = (-30, 45, 120)
SERVANT_DUE_IN_DAYS = (-10, 60, 150)
BATCH = 20_000


def add_generated_data(_app, province: Unit, prefix: str, **_kwargs) -> dict[str, int]:
    """Subscriber of lms.signals.demo_generated. Without any course fitting students or
    public servants there is nothing to assign: rosters would count for nothing, so nothing is
    added (bench/generate.py compares the learners' part alone with its floor that way)."""
    courses = {Audience.STUDENTS: students_courses(),
               Audience.PUBLIC_SERVANTS: servants_courses()}
    if not any(courses.values()):
        return {}
    _analyze("units", "users", "role_grants")
    entries = _roster_entries(province, prefix)
    assignments = sum(_assignments(province, [c.code for c in chosen], audience)
                      for audience, chosen in courses.items())
    enrollments = sum(_enrollments(province, prefix, audience, chosen, seed)
                      for (audience, chosen), seed in zip(courses.items(), (7, 11), strict=True)
                      if chosen)
    _analyze("roster_entries", "enrollments", "assignments")
    counters.refresh_subtree(province)
    return {"roster entries": entries, "assignments": assignments, "enrolments": enrollments}


def _analyze(*tables: str) -> None:
    """PostgreSQL plans from table statistics, which a bulk load leaves stale (autovacuum
    comes later): without them the counters' query picks nested loops over a million rows.
    ANALYZE may run inside the transaction and sees its rows."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


def students_courses() -> list[Course]:
    """The latest version of up to MAX_COURSES loaded courses a class may be assigned (audience
    students or everyone), by code: ATGT-HS and ATKGM of the shipped three (CQS-CC is for
    public servants)."""
    return course_queries.latest_courses({Audience.STUDENTS, Audience.EVERYONE})[:MAX_COURSES]


def servants_courses() -> list[Course]:
    """The latest version of up to MAX_COURSES loaded courses for public servants, by code:
    CQS-CC of the shipped three (those for everyone go to the students only)."""
    return course_queries.latest_courses({Audience.PUBLIC_SERVANTS})[:MAX_COURSES]


def _generated_leaves(province: Unit, prefix: str, audience: Audience | None = None):
    """The generated leaves: classes (codes <prefix>-S...) for students, departments
    (<prefix>-A...) for public servants, both when no audience is given."""
    klass = aliased(Unit, name="klass")
    low, high = subtree_bounds(province.path)
    kinds = {Audience.STUDENTS: [(UnitKind.CLASS, f"{prefix}-S")],
             Audience.PUBLIC_SERVANTS: [(UnitKind.DEPARTMENT, f"{prefix}-A")]}
    chosen = kinds.get(audience, kinds[Audience.STUDENTS] + kinds[Audience.PUBLIC_SERVANTS])
    return klass, and_(klass.path >= low, klass.path < high, or_(*(
        and_(klass.kind == kind, func.substr(klass.code, 1, len(start)) == start)
        for kind, start in chosen)))


def _roster_entries(province: Unit, prefix: str) -> int:
    """One active entry per learner grant on a generated class or department, linked to the
    account and carrying its keyed hash and masked ID; the roster is the class's school's (the
    department's agency's)."""
    klass, generated = _generated_leaves(province, prefix)
    rows = (select(klass.id, klass.parent_id, User.personal_id_hash, User.personal_id_masked,
                   User.full_name, User.birth_on, literal(EntryStatus.ACTIVE.value), User.id,
                   literal(utcnow(), UtcDateTime))
            .select_from(RoleGrant).join(klass, klass.id == RoleGrant.unit_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(generated, RoleGrant.role == Role.LEARNER))
    session.execute(insert(RosterEntry).from_select(
        ["unit_id", "roster_unit_id", "personal_id_hash", "personal_id_masked", "full_name",
         "birth_on", "status", "user_id", "updated_at"], rows))
    # Counted, not taken from rowcount: psycopg reports -1 for this INSERT ... SELECT here.
    return session.execute(select(func.count()).select_from(RosterEntry)
                           .join(klass, klass.id == RosterEntry.unit_id).where(generated)
                           ).scalar_one()


def _assignments(province: Unit, codes: list[str], audience: Audience) -> int:
    """The province assigns each course to its students (or public servants) once (a second
    prefix reuses them)."""
    today = today_local()
    due_in = DUE_IN_DAYS if audience is Audience.STUDENTS else SERVANT_DUE_IN_DAYS
    taken = set(session.execute(select(Assignment.course_code).where(
        Assignment.unit_id == province.id, Assignment.audience == audience,
        Assignment.withdrawn_at.is_(None))).scalars())
    made = 0
    for index, code in enumerate(codes):
        if code in taken:
            continue
        session.add(Assignment(unit_id=province.id, course_code=code, audience=audience,
                               start_on=today - timedelta(days=90),
                               due_on=today + timedelta(days=due_in[index])))
        made += 1
    session.flush()
    return made


def _enrollments(province: Unit, prefix: str, audience: Audience, courses: list[Course],
                 seed: int) -> int:
    klass, generated = _generated_leaves(province, prefix, audience)
    user_ids = array("q", session.execute(
        select(RosterEntry.user_id).join(klass, klass.id == RosterEntry.unit_id)
        .where(generated).order_by(RosterEntry.user_id)).scalars())
    made = 0
    for chunk in _chunks(_enrollment_rows(user_ids, [c.id for c in courses], seed), BATCH):
        insert_rows(Enrollment.__table__, chunk)
        made += len(chunk)
    return made


def _enrollment_rows(user_ids: array, course_ids: list[int], seed: int) -> Iterator[dict]:
    """Deterministic (seeded) outcomes; started in the last 60 days, completed within three
    days of starting and never in the future."""
    rng = random.Random(seed)
    now = utcnow()
    starts = [now - timedelta(days=60) + timedelta(minutes=17 * k) for k in range(5000)]
    durations = [timedelta(minutes=30 + 43 * k) for k in range(100)]
    completed_below = OUTCOMES[0][1] / 100
    started_below = completed_below + OUTCOMES[1][1] / 100
    for user_id in user_ids:
        for course_id in course_ids:
            draw = rng.random()
            if draw >= started_below:
                continue
            started: datetime = starts[rng.randrange(len(starts))]
            completed = None
            if draw < completed_below:
                completed = min(now, started + durations[rng.randrange(len(durations))])
            yield {"user_id": user_id, "course_id": course_id, "started_at": started,
                   "completed_at": completed}


def _chunks(items: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
