"""People and role-grant schemas. Personal IDs go out masked only, and come in only in
request bodies (never in a URL)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from lms.api import DB_INT, PageQuerySchema
from lms.people.models import Role


class GrantSchema(ma.Schema):
    id = ma.fields.Integer()
    role = ma.fields.Enum(Role, by_value=True)
    unit_code = ma.fields.Function(lambda g: g.unit.code)
    unit_name = ma.fields.Function(lambda g: g.unit.name)
    user_id = ma.fields.Integer()
    granted_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime(allow_none=True)


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    full_name = ma.fields.String()
    birth_on = ma.fields.Date(allow_none=True)
    personal_id_masked = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()


class MeSchema(UserSchema):
    grants = ma.fields.List(ma.fields.Nested(GrantSchema))
    level = ma.fields.Integer(metadata={"description": "assurance level of this session"})


class UserQuerySchema(PageQuerySchema):
    unit = ma.fields.String(required=True, metadata={"description": "unit code: its subtree"})


class GrantQuerySchema(PageQuerySchema):
    unit = ma.fields.String(required=True, metadata={"description": "unit code"})


class GrantCreateSchema(ma.Schema):
    user_id = ma.fields.Integer(validate=DB_INT)
    personal_id = ma.fields.String(
        load_only=True, validate=ma.validate.Regexp(r"^[0-9]{12}$", error=_l("12 digits.")),
        metadata={"description": "alternative to user_id; only ever sent in the body"})
    role = ma.fields.Enum(Role, by_value=True, required=True)
    unit_code = ma.fields.String(required=True)
    expires_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)

    @ma.validates_schema
    def _one_user(self, data, **kwargs):
        if ("user_id" in data) == ("personal_id" in data):
            raise ma.ValidationError(_l("Give either user_id or personal_id."), "user_id")


class CsrfSchema(ma.Schema):
    csrf_token = ma.fields.String()
