"""/api/v1/courses: the catalogue for the caller's audience and a course's outline. Lesson
content and quizzes are served to enrolled learners by enrollment's API."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from courses import queries
from courses.models import Course
from courses.schemas import CourseOut, CourseSummaryOut
from lms.api import Blueprint
from lms.i18n import localized

blp = Blueprint("courses_api", __name__, url_prefix="/api/v1/courses",
                description="Course catalogue")


def summary(course: Course) -> dict[str, Any]:
    return {"code": course.code, "version": course.version,
            "title": localized(course.title_vi, course.title_en),
            "description": localized(course.description_vi, course.description_en),
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
            "modules": [{"title": localized(m.title_vi, m.title_en),
                         "lessons": [{"slug": lesson.slug,
                                      "title": localized(lesson.title_vi, lesson.title_en),
                                      "min_seconds": lesson.min_seconds}
                                     for lesson in m.lessons]} for m in course.modules],
            "quiz": None if quiz is None else {
                "title": localized(quiz.title_vi, quiz.title_en), "pass_mark": quiz.pass_mark,
                "questions_per_attempt": quiz.questions_per_attempt,
                "attempts_allowed": quiz.attempts_allowed,
                "time_limit_seconds": quiz.time_limit_seconds}}
