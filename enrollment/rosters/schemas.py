"""Roster input and output schemas (unknown fields refused; IDs only masked)."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from enrollment.rosters.models import EntryStatus, ExemptReason
from lms.api import DB_INT, PageQuerySchema


class RosterUploadSchema(ma.Schema):
    file = Upload(required=True)


class RosterImportArgs(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=True)
    idempotency_key = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"))


class ProblemOut(ma.Schema):
    line = ma.fields.Integer()
    column = ma.fields.String()
    message = ma.fields.String()


class DiffPersonOut(ma.Schema):
    name = ma.fields.String()
    id = ma.fields.String(metadata={"description": "masked personal ID"})


class RosterReportOut(ma.Schema):
    dry_run = ma.fields.Boolean()
    valid = ma.fields.Boolean()
    rows = ma.fields.Integer()
    added = ma.fields.Integer()
    removed = ma.fields.Integer()
    changed = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    import_id = ma.fields.Integer(allow_none=True)
    problems = ma.fields.List(ma.fields.Nested(ProblemOut))
    diff = ma.fields.Dict(keys=ma.fields.String(),
                          values=ma.fields.List(ma.fields.Nested(DiffPersonOut)))


class EntryOut(ma.Schema):
    id = ma.fields.Integer()
    full_name = ma.fields.String()
    personal_id_masked = ma.fields.String()
    birth_on = ma.fields.Date()
    unit_code = ma.fields.String()
    status = ma.fields.Enum(EntryStatus, by_value=True)
    exempt_reason = ma.fields.Enum(ExemptReason, by_value=True, allow_none=True)
    linked = ma.fields.Boolean()


class EntryQuerySchema(PageQuerySchema):
    status = ma.fields.Enum(EntryStatus, by_value=True)


class ExemptionIn(ma.Schema):
    reason = ma.fields.Enum(ExemptReason, by_value=True, required=True)
    note = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))


class ConflictOut(ma.Schema):
    id = ma.fields.Integer()
    entry_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class ResolveIn(ma.Schema):
    user_id = ma.fields.Integer(load_default=None, allow_none=True, validate=DB_INT)
