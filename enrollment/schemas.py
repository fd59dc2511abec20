"""Learner-side schemas: progress, lessons, attempts. Input schemas refuse unknown fields."""

from __future__ import annotations

import marshmallow as ma

from lms.api import DB_INT


class OptionOut(ma.Schema):
    id = ma.fields.Integer()
    text = ma.fields.String()


class AttemptQuestionOut(ma.Schema):
    position = ma.fields.Integer()
    type = ma.fields.String()
    text = ma.fields.String()
    options = ma.fields.List(ma.fields.Nested(OptionOut))
    selected = ma.fields.List(ma.fields.Integer())
    is_correct = ma.fields.Boolean(metadata={"description": "only once answers are released"})
    correct_options = ma.fields.List(ma.fields.Integer())
    explanation = ma.fields.String()


class AttemptOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    state = ma.fields.String()
    started_at = ma.fields.AwareDateTime()
    deadline_at = ma.fields.AwareDateTime(allow_none=True)
    seconds_left = ma.fields.Integer(allow_none=True)
    total = ma.fields.Integer()
    correct = ma.fields.Integer(allow_none=True)
    score_percent = ma.fields.Integer(allow_none=True)
    passed = ma.fields.Boolean(allow_none=True)
    pass_mark = ma.fields.Integer()
    answers_released = ma.fields.Boolean()
    questions = ma.fields.List(ma.fields.Nested(AttemptQuestionOut))


class AttemptSummaryOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    state = ma.fields.String()
    score_percent = ma.fields.Integer(allow_none=True)
    passed = ma.fields.Boolean(allow_none=True)


class SavedAnswerOut(ma.Schema):
    position = ma.fields.Integer()
    selected = ma.fields.List(ma.fields.Integer())
    saved_at = ma.fields.AwareDateTime()


class AnswerIn(ma.Schema):
    selected = ma.fields.List(ma.fields.Integer(validate=DB_INT), required=True,
                              validate=ma.validate.Length(max=6))


class SubmitIn(ma.Schema):
    idempotency_key = ma.fields.String(required=True,
                                       validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"))
    answers = ma.fields.Dict(keys=ma.fields.Integer(validate=DB_INT), values=ma.fields.List(
        ma.fields.Integer(validate=DB_INT), validate=ma.validate.Length(max=6)),
        load_default=dict)


class LessonOut(ma.Schema):
    slug = ma.fields.String()
    position = ma.fields.Integer()
    title = ma.fields.String()
    html = ma.fields.String()
    min_seconds = ma.fields.Integer()
    video_url = ma.fields.String(allow_none=True)
    read = ma.fields.Boolean()
    seconds_left = ma.fields.Integer()
    previous = ma.fields.String(allow_none=True)
    next = ma.fields.String(allow_none=True)


class ProgressLessonOut(ma.Schema):
    slug = ma.fields.String()
    title = ma.fields.String()
    read = ma.fields.Boolean()


class ProgressOut(ma.Schema):
    course_code = ma.fields.String()
    course_version = ma.fields.Integer()
    title = ma.fields.String()
    lessons = ma.fields.List(ma.fields.Nested(ProgressLessonOut))
    lessons_read = ma.fields.Integer()
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    attempts = ma.fields.List(ma.fields.Nested(AttemptSummaryOut))
