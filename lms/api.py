"""The JSON API under /api/v1/: flask-smorest publishes the OpenAPI document; errors keep the
one shape of lms.errors; lists are {"items", "meta": {"page", "per_page", "total"}}."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask
from flask_smorest import Api
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser

from lms.db import session


class ErrorSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Stable machine-readable code"})
    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    message = ma.fields.String(metadata={"description": "Human-readable, in the user's language"})
    errors = ma.fields.Dict(metadata={"description": "Field name (or line) → messages"})


class LmsApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """lms.errors owns error rendering for the whole app (one JSON shape)."""


class StrictParser(FlaskParser):
    """Unknown fields are an error in every location we read (STYLE.md rule 4)."""

    DEFAULT_UNKNOWN_BY_LOCATION = dict.fromkeys(
        ("json", "form", "json_or_form", "query", "querystring", "files"), ma.RAISE)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()


class PageQuerySchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(load_default=200, validate=ma.validate.Range(min=1, max=1000))


class MetaSchema(ma.Schema):
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()


def list_schema(item: type[ma.Schema]) -> type[ma.Schema]:
    """{"items": [item], "meta": {...}} for one item schema."""
    return ma.Schema.from_dict(
        {"items": ma.fields.List(ma.fields.Nested(item)), "meta": ma.fields.Nested(MetaSchema)},
        name=f"{item.__name__.removesuffix('Schema')}ListSchema")


def paginate(query: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """One count and one page of rows, both from the same (already scoped) query."""
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())
                            ).scalar_one()
    items = session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {"items": items, "meta": {"page": page, "per_page": per_page, "total": total}}


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Hocvuso API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = LmsApi(app)
    app.extensions["lms_api"] = api
