"""Learner-side reads: a course's progress and a lesson with its neighbours. The course's
content comes from the per-process outline cache (courses.cache); only the learner's own rows
are read per request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from courses import queries as course_queries
from courses.cache import CourseOutline, LessonOutline, Stamp
from courses.models import Course, Lesson
from enrollment import service
from enrollment.models import Attempt, Enrollment, LessonProgress
from lms.db import session, utcnow
from lms.errors import NotFound
from lms.i18n import localized
from lms.people.models import User

# Built once (every learner page runs them; building a select costs about what SQLite takes
# to answer it, see bench/pages.py); SQLAlchemy memoises a prebuilt statement's cache key.
_LEARNER_COURSE = (
    select(Enrollment, *course_queries.STAMP_COLUMNS)
    .join(Course, Course.id == Enrollment.course_id)
    .where(Enrollment.user_id == bindparam("user_id"), Course.code == bindparam("code"))
    .order_by(Enrollment.started_at.desc()).limit(1))
_LESSONS_READ = select(LessonProgress.lesson_id, LessonProgress.read_at).where(
    LessonProgress.enrollment_id == bindparam("enrollment_id"))
_ATTEMPTS = (
    select(Attempt.id, Attempt.number, Attempt.state, Attempt.score_percent, Attempt.passed)
    .where(Attempt.enrollment_id == bindparam("enrollment_id"),
           Attempt.quiz_id == bindparam("quiz_id"))
    .order_by(Attempt.number))


def learner_course(user: User, code: str) -> tuple[Enrollment, CourseOutline]:
    """The learner's enrolment in course `code` (the latest started, as
    service.require_enrollment) with its version's stamp in one query, and that version's
    outline. Raises NotFound when the learner has not started the course."""
    row = session.execute(_LEARNER_COURSE, {"user_id": user.id, "code": code}).first()
    if row is None:
        raise NotFound()
    enrollment = row[0]
    return enrollment, course_queries.outline(enrollment.course_id, Stamp(*row[1:]))


def started_codes(user: User) -> set[str]:
    """The codes of the courses the learner has an enrolment in (any version), in one query."""
    return set(session.execute(select(Course.code).distinct().join(
        Enrollment, Enrollment.course_id == Course.id).where(Enrollment.user_id == user.id)
    ).scalars())


def lesson_of(course: CourseOutline, slug: str) -> LessonOutline:
    """Raises NotFound for a slug that is not a lesson of this course version."""
    lesson = course.lesson(slug)
    if lesson is None:
        raise NotFound()
    return lesson


def progress_view(enrollment: Enrollment, course: CourseOutline | None = None
                  ) -> dict[str, Any]:
    course = course or course_queries.outline(enrollment.course_id)
    read = dict(session.execute(_LESSONS_READ, {"enrollment_id": enrollment.id}).all())
    history = session.execute(_ATTEMPTS, {"enrollment_id": enrollment.id,
                                          "quiz_id": course.quiz.id}).all() if course.quiz else []
    return {"course_code": course.code, "course_version": course.version,
            "title": localized(course.title_vi, course.title_en),
            "lessons": [{"slug": lesson.slug, "title": localized(lesson.title_vi,
                                                                 lesson.title_en),
                         "read": read.get(lesson.id) is not None}
                        for lesson in course.lessons],
            "lessons_read": sum(1 for read_at in read.values() if read_at),
            "completed_at": enrollment.completed_at,
            "attempts": [{"id": a.id, "number": a.number, "state": a.state.value,
                          "score_percent": a.score_percent, "passed": a.passed}
                         for a in history]}


def lesson_view(enrollment: Enrollment, lesson: Lesson | LessonOutline,
                course: CourseOutline | None = None) -> dict[str, Any]:
    progress = service.open_lesson(enrollment, lesson)  # type: ignore[arg-type] (uses .id)
    lessons = (course or course_queries.outline(enrollment.course_id)).lessons
    index = next(i for i, item in enumerate(lessons) if item.id == lesson.id)
    elapsed = (utcnow() - progress.first_opened_at).total_seconds()
    return {"slug": lesson.slug, "position": lesson.position,
            "title": localized(lesson.title_vi, lesson.title_en),
            "html": localized(lesson.html_vi, lesson.html_en),
            "min_seconds": lesson.min_seconds, "video_url": lesson.video_url,
            "read": progress.read_at is not None,
            "seconds_left": max(0, int(lesson.min_seconds - elapsed)),
            "previous": lessons[index - 1].slug if index > 0 else None,
            "next": lessons[index + 1].slug if index + 1 < len(lessons) else None}
