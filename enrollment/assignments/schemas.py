"""Assignment input and output schemas (marshmallow 4). Unknown fields are an error."""

from __future__ import annotations

import marshmallow as ma

from courses.models import Audience

CODE_LIST_MAX = 20


class AssignmentIn(ma.Schema):
    unit_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    course_codes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=40)), required=True,
        validate=ma.validate.Length(min=1, max=CODE_LIST_MAX))
    audience = ma.fields.Enum(Audience, by_value=True, required=True)
    start_on = ma.fields.Date(required=True)
    due_on = ma.fields.Date(required=True)


class AssignmentOut(ma.Schema):
    id = ma.fields.Integer()
    unit_code = ma.fields.String()
    unit_name = ma.fields.String()
    course_code = ma.fields.String()
    course_title = ma.fields.String()
    audience = ma.fields.String()
    start_on = ma.fields.Date()
    due_on = ma.fields.Date()
    inherited = ma.fields.Boolean(metadata={"description": "assigned to a unit above"})


class LearnerAssignmentOut(ma.Schema):
    course_code = ma.fields.String()
    course_title = ma.fields.String()
    start_on = ma.fields.Date()
    due_on = ma.fields.Date()
    state = ma.fields.String(metadata={
        "description": "not_started | in_progress | completed | overdue"})
