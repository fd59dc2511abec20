"""Completion figures and people-list schemas (marshmallow 4). Unknown query fields are an
error (lms.api's strict parser); the HTML dashboard loads its query through the same schema."""

from __future__ import annotations

import marshmallow as ma

from lms.api import PageQuerySchema

CODE_LIST_MAX = 20
PEOPLE_STATES = ("not_completed", "completed", "exempt", "all")
COURSE_STATES = ("not_started", "in_progress", "completed", "overdue", "exempt")


def _course_codes() -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=40)),
                          load_default=list, validate=ma.validate.Length(max=CODE_LIST_MAX),
                          metadata={"description": "course codes (repeat the parameter); "
                                                   "none: every assigned course"})


class FiguresQuerySchema(ma.Schema):
    course = _course_codes()


class PeopleQuerySchema(PageQuerySchema):
    state = ma.fields.String(load_default="not_completed",
                             validate=ma.validate.OneOf(PEOPLE_STATES),
                             metadata={"description": " | ".join(PEOPLE_STATES)})
    course = ma.fields.String(validate=ma.validate.Length(min=1, max=40),
                              metadata={"description": "one course code; none: every "
                                                       "course assigned to the person"})


class FiguresOut(ma.Schema):
    expected = ma.fields.Integer()
    completed = ma.fields.Integer()
    in_progress = ma.fields.Integer()
    not_started = ma.fields.Integer()
    overdue = ma.fields.Integer(metadata={"description": "not completed after the due date "
                                                         "(part of in progress + not started)"})
    exempt = ma.fields.Integer(metadata={"description": "outside the denominator"})
    rate = ma.fields.String(allow_none=True, metadata={
        "description": "completed / expected in percent, one decimal, rounded down; "
                       "null when nobody is expected"})
    gap = ma.fields.Integer(metadata={"description": "expected - completed"})


class UnitRefOut(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class ChildFiguresOut(UnitRefOut):
    figures = ma.fields.Nested(FiguresOut)


class UnitFiguresOut(ma.Schema):
    unit = ma.fields.Nested(UnitRefOut)
    today = ma.fields.Date(metadata={"description": "the Vietnamese calendar day used for "
                                                    "overdue"})
    courses = ma.fields.List(ma.fields.String())
    figures = ma.fields.Nested(FiguresOut)
    children = ma.fields.List(ma.fields.Nested(ChildFiguresOut), metadata={
        "description": "the unit's children (and the unit itself when people sit on it); "
                       "they sum to the unit's figures"})


class CourseStateOut(ma.Schema):
    course_code = ma.fields.String()
    due_on = ma.fields.Date()
    state = ma.fields.String(metadata={"description": " | ".join(COURSE_STATES)})


class PersonOut(ma.Schema):
    entry_id = ma.fields.Integer()
    full_name = ma.fields.String()
    personal_id_masked = ma.fields.String()
    unit_code = ma.fields.String()
    unit_name = ma.fields.String(metadata={"description": "class or department"})
    status = ma.fields.String(metadata={"description": "active | exempt"})
    courses = ma.fields.List(ma.fields.Nested(CourseStateOut))
