"""Audit log query arguments and event output (marshmallow 4). Unknown fields are an error."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _

from lms.api import PageQuerySchema

ACTION_PATTERN = r"^[a-z_]{1,20}\.[a-z_]{1,19}$"


class AuditQuery(ma.Schema):
    """Filters of the page, the CSV and the API: an action, local dates (inclusive)."""

    action = ma.fields.String(load_default=None, validate=ma.validate.Regexp(ACTION_PATTERN),
                              metadata={"description": "e.g. roles.grant"})
    since = ma.fields.Date(load_default=None, metadata={
        "description": "first day, Asia/Ho_Chi_Minh"})
    until = ma.fields.Date(load_default=None, metadata={
        "description": "last day, Asia/Ho_Chi_Minh"})

    @ma.validates_schema
    def _ordered(self, data, **_kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ma.ValidationError(_("The first day is after the last day."), "until")


class AuditPageQuery(AuditQuery, PageQuerySchema):
    pass


class AuditEventOut(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime(metadata={"description": "UTC"})
    actor_id = ma.fields.Integer(allow_none=True)
    actor_name = ma.fields.String(allow_none=True, metadata={
        "description": "as at the time; null: the system"})
    action = ma.fields.String()
    unit_code = ma.fields.String(allow_none=True)
    target = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()
    request_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True, metadata={
        "description": "the client's network (IPv4 /24, IPv6 /48), never a full address"})
