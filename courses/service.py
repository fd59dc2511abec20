"""Writes to the catalogue: load a validated package as a new course version. Flush only."""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import Course, CourseAsset, Lesson, Module, Option, Question, Quiz
from courses.package import read_package
from courses.package_spec import IMAGE_TYPES, CourseSpec
from courses.sanitize import render
from lms.db import session
from lms.errors import Conflict


def asset_url(code: str, version: int) -> str:
    return f"/courses/{code}/v{version}/assets"


def import_package(path: Path) -> tuple[Course, bool]:
    """Load the package at `path` as a new version. Returns (course, created).

    The same version with the same bytes is a no-op (created False). Raises PackageInvalid
    (with every problem), or Conflict when that version exists with other content or a
    newer version is already loaded.
    """
    spec = read_package(path)
    existing = session.execute(select(Course).where(
        Course.code == spec.code, Course.version == spec.version)).scalar_one_or_none()
    if existing is not None:
        if existing.package_hash == spec.digest:
            return existing, False
        raise Conflict(_("Version %(v)s of %(code)s is already loaded with other content; "
                         "raise the version number.", v=spec.version, code=spec.code))
    latest = session.execute(select(func.max(Course.version)).where(
        Course.code == spec.code)).scalar_one()
    if latest is not None and latest > spec.version:
        raise Conflict(_("A newer version (%(v)s) of %(code)s is already loaded.",
                         v=latest, code=spec.code))
    course = _build(spec)
    session.add(course)
    session.flush()
    return course, True


def _build(spec: CourseSpec) -> Course:
    assets = asset_url(spec.code, spec.version)
    course = Course(code=spec.code, version=spec.version, audience=spec.audience,
                    estimated_minutes=spec.estimated_minutes, title_vi=spec.title.vi,
                    title_en=spec.title.en, description_vi=spec.description.vi,
                    description_en=spec.description.en, package_hash=spec.digest)
    position = 0
    for index, module_spec in enumerate(spec.modules, start=1):
        module = Module(position=index, title_vi=module_spec.title.vi,
                        title_en=module_spec.title.en)
        course.modules.append(module)
        for lesson in module_spec.lessons:
            position += 1
            row = Lesson(position=position, slug=lesson.slug, title_vi=lesson.title.vi,
                         title_en=lesson.title.en, source_vi=lesson.source.vi,
                         source_en=lesson.source.en, html_vi=render(lesson.source.vi, assets),
                         html_en=render(lesson.source.en, assets)
                         if lesson.source.en is not None else None,
                         min_seconds=lesson.min_seconds, video_url=lesson.video_url)
            row.course = course
            module.lessons.append(row)
    if spec.quiz is not None:
        course.quiz = _quiz(spec)
    for path, data in spec.images.items():
        course.assets.append(CourseAsset(path=path, data=data,
                                         content_type=IMAGE_TYPES[Path(path).suffix.lower()]))
    return course


def _quiz(spec: CourseSpec) -> Quiz:
    quiz_spec = spec.quiz
    assert quiz_spec is not None
    quiz = Quiz(title_vi=quiz_spec.title.vi, title_en=quiz_spec.title.en,
                pass_mark=quiz_spec.pass_mark,
                questions_per_attempt=quiz_spec.questions_per_attempt,
                attempts_allowed=quiz_spec.attempts_allowed,
                time_limit_seconds=quiz_spec.time_limit_minutes * 60,
                shuffle_questions=quiz_spec.shuffle_questions,
                shuffle_options=quiz_spec.shuffle_options, show_answers=quiz_spec.show_answers,
                requires_all_lessons=quiz_spec.requires_all_lessons)
    for position, question in enumerate(quiz_spec.pool, start=1):
        row = Question(key=question.key, position=position, type=question.type,
                       text_vi=question.text.vi, text_en=question.text.en,
                       explanation_vi=question.explanation.vi,
                       explanation_en=question.explanation.en,
                       always_included=question.key in quiz_spec.always_include)
        for option_position, option in enumerate(question.options, start=1):
            row.options.append(Option(key=option.key, position=option_position,
                                      text_vi=option.text.vi, text_en=option.text.en,
                                      is_correct=option.correct))
        quiz.questions.append(row)
    return quiz
