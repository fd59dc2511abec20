"""Catalogue output schemas."""

from __future__ import annotations

import marshmallow as ma


class CourseSummaryOut(ma.Schema):
    code = ma.fields.String()
    version = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    audience = ma.fields.String()
    estimated_minutes = ma.fields.Integer()


class LessonOutlineOut(ma.Schema):
    slug = ma.fields.String()
    title = ma.fields.String()
    min_seconds = ma.fields.Integer()


class ModuleOutlineOut(ma.Schema):
    title = ma.fields.String()
    lessons = ma.fields.List(ma.fields.Nested(LessonOutlineOut))


class QuizOutlineOut(ma.Schema):
    title = ma.fields.String()
    pass_mark = ma.fields.Integer()
    questions_per_attempt = ma.fields.Integer()
    attempts_allowed = ma.fields.Integer()
    time_limit_seconds = ma.fields.Integer()


class CourseOut(CourseSummaryOut):
    modules = ma.fields.List(ma.fields.Nested(ModuleOutlineOut))
    quiz = ma.fields.Nested(QuizOutlineOut, allow_none=True)
