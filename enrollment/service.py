"""Enrolment and reading progress. Flush only; the request commits (STYLE.md rule 3)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from courses import queries as course_queries
from courses.models import Course, Lesson
from enrollment import signals
from enrollment.models import Attempt, Enrollment, LessonProgress
from enrollment.reports import counters
from lms.db import create_once, session, utcnow
from lms.errors import InvalidState, NotFound
from lms.people.models import User


def find_enrollment(user: User, code: str) -> Enrollment | None:
    return session.execute(
        select(Enrollment).join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user.id, Course.code == code)
        .order_by(Enrollment.started_at.desc()).limit(1)).scalar_one_or_none()


def enroll(user: User, code: str) -> Enrollment:
    """The learner's enrolment in a course, in the latest version when they start; a learner
    already in an older version stays there. Raises NotFound for an unknown or hidden course."""
    existing = find_enrollment(user, code)
    if existing is not None:
        return existing
    course = course_queries.latest_version(code)
    if course.audience not in course_queries.audiences_of(user):
        raise NotFound()
    # two tabs starting at once: one row
    enrollment = create_once(lambda: find_enrollment(user, code),
                             lambda: Enrollment(user_id=user.id, course_id=course.id))
    counters.refresh_for_user(user.id, code)
    return enrollment


def lesson_in(enrollment: Enrollment, slug: str) -> Lesson:
    lesson = session.execute(select(Lesson).where(Lesson.course_id == enrollment.course_id,
                                                  Lesson.slug == slug)).scalar_one_or_none()
    if lesson is None:
        raise NotFound()
    return lesson


def open_lesson(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """Start the server-side clock of a lesson the first time it is opened."""
    return create_once(lambda: _progress(enrollment, lesson),
                       lambda: LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson.id))


def mark_read(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """Count the lesson as read once its minimum time has passed on the server clock.

    Raises InvalidState (with the seconds left) when it is too early.
    """
    progress = open_lesson(enrollment, lesson)
    if progress.read_at is not None:
        return progress
    elapsed = int((utcnow() - progress.first_opened_at).total_seconds())
    if elapsed < lesson.min_seconds:
        raise InvalidState(_("Keep reading: this lesson counts after %(n)s more seconds.",
                             n=lesson.min_seconds - elapsed),
                           errors={"seconds_left": [str(lesson.min_seconds - elapsed)]})
    # Conditional, like completion: of two devices reading at once, the first read stands.
    now = utcnow()
    session.execute(update(LessonProgress).where(
        LessonProgress.id == progress.id, LessonProgress.read_at.is_(None))
        .values(read_at=now, seconds_on_task=elapsed)
        .execution_options(synchronize_session=False))
    session.refresh(progress)
    complete_if_done(enrollment)
    return progress


def _progress(enrollment: Enrollment, lesson: Lesson) -> LessonProgress | None:
    return session.execute(select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id,
        LessonProgress.lesson_id == lesson.id)).scalar_one_or_none()


def count_read(enrollment: Enrollment) -> int:
    return session.execute(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id,
        LessonProgress.read_at.is_not(None))).scalar_one()


def progress_by_lesson(enrollment: Enrollment) -> dict[int, LessonProgress]:
    return {p.lesson_id: p for p in session.execute(select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id)).scalars()}


def complete_if_done(enrollment: Enrollment) -> bool:
    """The course's rule: every lesson read and, when it has one, the final quiz passed.
    Completes once; returns whether this call completed it."""
    if enrollment.completed_at is not None:
        return False
    if count_read(enrollment) < len(course_queries.lessons_of(enrollment.course_id)):
        return False
    quiz_id = course_queries.quiz_id_of(enrollment.course_id)
    revoked_at = enrollment.completion_revoked_at
    if quiz_id is not None:
        passed = select(Attempt.id).where(
            Attempt.enrollment_id == enrollment.id, Attempt.quiz_id == quiz_id,
            Attempt.passed.is_(True))
        if revoked_at is not None:  # a revoked completion's attempts never count again
            passed = passed.where(Attempt.started_at > revoked_at)
        if not session.execute(passed.limit(1)).first():
            return False
    elif revoked_at is not None and session.execute(select(func.count()).select_from(
            LessonProgress).where(LessonProgress.enrollment_id == enrollment.id,
                                  LessonProgress.read_at > revoked_at)).scalar_one() == 0:
        return False  # without a quiz, at least one lesson read again after the revocation
    return _complete(enrollment)


def revoke_completion(enrollment_id: int, completed_at: datetime) -> bool:
    """Undo the completion at completed_at (its certificate was revoked): the learner is in
    progress again and counts so in every unlocked figure; locked snapshots keep what they
    froze. Conditional, so a completion is revoked once; returns whether this call did."""
    now = utcnow()
    changed = session.execute(
        update(Enrollment).where(Enrollment.id == enrollment_id,
                                 Enrollment.completed_at == completed_at)
        .values(completed_at=None, completion_revoked_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        return False
    enrollment = session.get(Enrollment, enrollment_id)
    session.refresh(enrollment)
    counters.refresh_for_user(enrollment.user_id, session.get(Course, enrollment.course_id).code)
    return True


def _complete(enrollment: Enrollment) -> bool:
    """Set completed_at with a conditional UPDATE: of two concurrent transactions only one
    changes the row (the other waits for its lock, then matches nothing), so the signal is
    sent exactly once, inside the transaction that completed it."""
    now = utcnow()
    changed = session.execute(
        update(Enrollment).where(Enrollment.id == enrollment.id,
                                 Enrollment.completed_at.is_(None))
        .values(completed_at=now).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.refresh(enrollment)
        return False
    enrollment.completed_at = now
    session.flush()
    counters.refresh_for_user(enrollment.user_id, session.get(Course, enrollment.course_id).code)
    signals.course_completed.send(current_app._get_current_object(), enrollment=enrollment)
    return True


def require_enrollment(user: User, code: str) -> Enrollment:
    enrollment = find_enrollment(user, code)
    if enrollment is None:
        raise NotFound()
    return enrollment
