"""Learner-side reads: a course's progress and a lesson with its neighbours."""

from __future__ import annotations

from typing import Any

from courses import queries as course_queries
from courses.models import Lesson
from enrollment import attempts, service
from enrollment.models import Enrollment
from lms.db import utcnow
from lms.i18n import localized


def progress_view(enrollment: Enrollment) -> dict[str, Any]:
    course = course_queries.get_course(enrollment.course_id)
    lessons = course_queries.lessons_of(course.id)
    done = service.progress_by_lesson(enrollment)
    history = attempts.attempts_of(enrollment, course.quiz) if course.quiz else []
    return {"course_code": course.code, "course_version": course.version,
            "title": localized(course.title_vi, course.title_en),
            "lessons": [{"slug": lesson.slug, "title": localized(lesson.title_vi,
                                                                 lesson.title_en),
                         "read": bool(done.get(lesson.id) and done[lesson.id].read_at)}
                        for lesson in lessons],
            "lessons_read": sum(1 for p in done.values() if p.read_at),
            "completed_at": enrollment.completed_at,
            "attempts": [{"id": a.id, "number": a.number, "state": a.state.value,
                          "score_percent": a.score_percent, "passed": a.passed}
                         for a in history]}


def lesson_view(enrollment: Enrollment, lesson: Lesson) -> dict[str, Any]:
    progress = service.open_lesson(enrollment, lesson)
    lessons = course_queries.lessons_of(enrollment.course_id)
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
