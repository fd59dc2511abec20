"""/api/v1/courses: the catalogue for the caller's audience and a course's outline. Lesson
content and quizzes are served to enrolled learners by enrollment's API."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_login import current_user

from courses import queries
from courses.models import Course
from courses.schemas import CourseOut, CourseSummaryOut
from lms.api import Blueprint

blp = Blueprint("courses_api", __name__, url_prefix="/api/v1/courses",
                description="Course catalogue")


def _text(vi: str | None, en: str | None) -> str:
    return en if en and str(get_locale()) == "en" else (vi or "")


def summary(course: Course) -> dict[str, Any]:
    return {"code": course.code, "version": course.version,
            "title": _text(course.title_vi, course.title_en),
            "description": _text(course.description_vi, course.description_en),
            "audience": course.audience.value, "estimated_minutes": course.estimated_minutes}


@blp.get("")
@blp.response(200, CourseSummaryOut(many=True))
def catalogue():
    """Published courses (latest versions) for the caller's audience."""
    user = current_user._get_current_object()
    return [summary(c) for c in queries.latest_courses(queries.audiences_of(user))]


@blp.get("/<code>")
@blp.response(200, CourseOut)
def outline(code):
    course = queries.latest_version(code)
    quiz = course.quiz
    return {**summary(course),
            "modules": [{"title": _text(m.title_vi, m.title_en),
                         "lessons": [{"slug": lesson.slug,
                                      "title": _text(lesson.title_vi, lesson.title_en),
                                      "min_seconds": lesson.min_seconds}
                                     for lesson in m.lessons]} for m in course.modules],
            "quiz": None if quiz is None else {
                "title": _text(quiz.title_vi, quiz.title_en), "pass_mark": quiz.pass_mark,
                "questions_per_attempt": quiz.questions_per_attempt,
                "attempts_allowed": quiz.attempts_allowed,
                "time_limit_seconds": quiz.time_limit_seconds}}
