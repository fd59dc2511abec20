"""Demo data of this package: when `flask demo load` creates the demo province, its learners
are put on their units' rosters, the province assigns the shipped courses, and the learners get
varied, realistic progress (none, some lessons, a failed quiz, completed) through the real
services."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from courses import queries as course_queries
from courses.models import Audience, Option
from enrollment import attempts, service
from enrollment.assignments.models import Assignment
from enrollment.models import LessonProgress
from enrollment.reports import counters
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.db import session, utcnow
from lms.units.models import Unit

OUTCOMES = (("none", 25), ("reading", 30), ("failed", 10), ("completed", 35))


def add_demo_progress(_app, province, learners, staff, **_kwargs) -> None:
    """Subscriber of lms.signals.demo_loaded: rosters, assignments, then progress."""
    _rosters(learners)
    _assignments(province)
    rng = random.Random(2025)
    for user, _unit in learners:
        for course in course_queries.latest_courses(course_queries.audiences_of(user)):
            outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
            if outcome != "none":
                _progress(user, course.code, outcome, rng)
    # Roster entries and assignments were added directly: build the counters once, so that
    # classes where nobody has started yet show their figures too.
    counters.refresh_subtree(province)


def _rosters(learners) -> None:
    """Every demo learner is on their school's or agency's roster, linked to their account."""
    parents = {u.id: u for u in session.execute(select(Unit).where(
        Unit.id.in_({unit.parent_id for _user, unit in learners}))).scalars()}
    for user, unit in learners:
        session.add(RosterEntry(
            unit_id=unit.id, roster_unit_id=parents[unit.parent_id].id,
            personal_id_hash=user.personal_id_hash, personal_id_masked=user.personal_id_masked,
            full_name=user.full_name, birth_on=user.birth_on, status=EntryStatus.ACTIVE,
            user_id=user.id))
    session.flush()


def _assignments(province) -> None:
    """The province assigns the safety courses to its students and the digital-government
    and cyber-safety courses to its public servants, due at the end of the school year."""
    loaded = {c.code for c in course_queries.latest_courses(set(Audience))}
    today = utcnow().date()
    due = date(today.year + (today.month > 5), 5, 31)
    plan = [("ATGT-HS", Audience.STUDENTS), ("ATKGM", Audience.STUDENTS),
            ("CQS-CC", Audience.PUBLIC_SERVANTS), ("ATKGM", Audience.PUBLIC_SERVANTS)]
    for code, audience in plan:
        if code in loaded:
            session.add(Assignment(unit_id=province.id, course_code=code, audience=audience,
                                   start_on=today - timedelta(days=60), due_on=due))
    session.flush()


def _progress(user, code: str, outcome: str, rng: random.Random) -> None:
    enrollment = service.enroll(user, code)
    lessons = course_queries.lessons_of(enrollment.course_id)
    to_read = lessons if outcome != "reading" else lessons[:rng.randrange(1, len(lessons))]
    started = utcnow() - timedelta(days=rng.randrange(2, 40), minutes=rng.randrange(600))
    enrollment.started_at = started
    for lesson in to_read:
        progress = service.open_lesson(enrollment, lesson)
        progress.first_opened_at = started
        session.flush()
        service.mark_read(enrollment, lesson)
        progress = session.execute(select(LessonProgress).where(
            LessonProgress.id == progress.id)).scalar_one()
        progress.seconds_on_task = lesson.min_seconds + rng.randrange(30, 600)
    if outcome in ("failed", "completed"):
        attempt = attempts.start(user, enrollment)
        right = outcome == "completed"
        answers = {}
        for slot in attempt.questions:
            correct = set(session.execute(select(Option.id).where(
                Option.id.in_(slot.option_order), Option.is_correct)).scalars())
            answers[slot.position] = (sorted(correct) if right else
                                      [o for o in slot.option_order if o not in correct][:1])
        attempts.submit(user, attempt.id, answers, f"demo-{user.id}-{code}")
        if right:
            enrollment.completed_at = started + timedelta(days=rng.randrange(0, 2),
                                                         minutes=rng.randrange(20, 240))
    session.flush()
