"""Input and output schemas of monthly snapshots and submissions (marshmallow 4). Unknown
fields are an error."""

from __future__ import annotations

import marshmallow as ma

from enrollment.reports.snapshots import NOTE_MAX
from lms.api import PageQuerySchema

PERIOD = ma.validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Use the form YYYY-MM.")


class SnapshotLockIn(ma.Schema):
    period = ma.fields.String(required=True, validate=PERIOD)
    note = ma.fields.String(load_default=None, allow_none=True,
                            validate=ma.validate.Length(max=NOTE_MAX),
                            metadata={"description": "why a correction is made; required "
                                                     "when the period is already locked"})


class SnapshotQuery(PageQuerySchema):
    period = ma.fields.String(validate=PERIOD)


class SubmissionQuery(ma.Schema):
    period = ma.fields.String(validate=PERIOD, metadata={
        "description": "YYYY-MM; the previous month when absent"})


class SnapshotOut(ma.Schema):
    id = ma.fields.String(metadata={"description": "public id, used in URLs"})
    unit_code = ma.fields.String()
    unit_name = ma.fields.String()
    period = ma.fields.String()
    version = ma.fields.Integer()
    locked_at = ma.fields.AwareDateTime()
    locked_by = ma.fields.String(allow_none=True)
    content_hash = ma.fields.String(metadata={
        "description": "SHA-256 of the canonical JSON of content (sorted keys, no spaces)"})
    supersedes = ma.fields.String(allow_none=True, metadata={
        "description": "id of the version this correction replaces"})
    note = ma.fields.String(allow_none=True)


class SnapshotDetailOut(SnapshotOut):
    content = ma.fields.Dict()
    diff = ma.fields.Dict(allow_none=True, metadata={
        "description": "changes from the superseded version: figures, courses, children"})


class SubmittedSnapshotOut(ma.Schema):
    id = ma.fields.String()
    version = ma.fields.Integer()
    locked_at = ma.fields.AwareDateTime()


class SubmissionOut(ma.Schema):
    unit_code = ma.fields.String(attribute="code")
    unit_name = ma.fields.String(attribute="name")
    kind = ma.fields.String()
    status = ma.fields.String(metadata={"description": "on_time | late | missing"})
    deadline = ma.fields.AwareDateTime()
    first_locked_at = ma.fields.AwareDateTime(allow_none=True)
    snapshot = ma.fields.Nested(SubmittedSnapshotOut, allow_none=True)
