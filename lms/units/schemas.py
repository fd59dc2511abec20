"""Unit input and output schemas (marshmallow 4). Unknown fields are an error."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from lms.api import PageQuerySchema
from lms.units.models import CODE_PATTERN, FORMULA_STARTS, NAME_MAX, UnitKind


def _normalized_name(value: str) -> str:
    from lms.pii import normalize_name

    return normalize_name(value)


class NameField(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return _normalized_name(super()._deserialize(value, attr, data, **kwargs))


class UnitSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.Enum(UnitKind, by_value=True)
    division_type = ma.fields.String(allow_none=True)
    # queries load the parent with the unit (joinedload), so this costs no extra query
    parent_code = ma.fields.Function(lambda unit: unit.parent.code if unit.parent else None)
    depth = ma.fields.Integer()


class UnitQuerySchema(PageQuerySchema):
    kind = ma.fields.Enum(UnitKind, by_value=True)
    parent = ma.fields.String(metadata={"description": "code of the parent unit"})
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=100),
                         metadata={"description": "part of the name"})


class UnitCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        CODE_PATTERN, error=_l("Use 1-40 letters, digits, '.', '_' or '-'.")))
    name = NameField(required=True, validate=ma.validate.Length(
        min=1, max=NAME_MAX, error=_l("Between 1 and %(max)s characters.", max=NAME_MAX)))
    kind = ma.fields.Enum(UnitKind, by_value=True, required=True)
    parent_code = ma.fields.String(required=True)


    @ma.validates("name")
    def _not_a_formula(self, value: str, **kwargs) -> None:
        if value.startswith(FORMULA_STARTS):
            raise ma.ValidationError(_l("A name may not start with =, +, - or @."))


class UnitImportQuerySchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=True)


class ImportProblemSchema(ma.Schema):
    line = ma.fields.Integer()
    column = ma.fields.String()
    message = ma.fields.String()


class UnitImportResultSchema(ma.Schema):
    dry_run = ma.fields.Boolean()
    valid = ma.fields.Boolean()
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    problems = ma.fields.List(ma.fields.Nested(ImportProblemSchema))
