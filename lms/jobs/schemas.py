"""The job as the API shows it to its requester: state, public result fields, download link."""

from __future__ import annotations

import marshmallow as ma

from lms.jobs.models import JobStatus


class JobOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.Enum(JobStatus, by_value=True)
    progress = ma.fields.Integer(allow_none=True, metadata={"description": "percent, if known"})
    error = ma.fields.String(allow_none=True, metadata={"description": "why it failed"})
    notice = ma.fields.String(allow_none=True, metadata={
        "description": "why a queued job waits (its queue is unavailable, or it was "
                       "interrupted and will run again)"})
    result = ma.fields.Dict(allow_none=True, metadata={
        "description": "what the job reports (rows, filename ...); no storage key"})
    created_at = ma.fields.AwareDateTime()
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the download link stops working"})
    expired = ma.fields.Boolean()
    download_url = ma.fields.String(allow_none=True)
    next_url = ma.fields.String(allow_none=True)
