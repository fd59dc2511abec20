"""The JSON API under /api/v1/: flask-smorest publishes the OpenAPI document; errors keep the
one shape of lms.errors; lists are {"items", "meta": {"page", "per_page", "total"}}."""

from __future__ import annotations

from copy import deepcopy
from http import HTTPStatus
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask, request
from flask_babel import gettext as _
from flask_login import login_required
from flask_smorest import Api
from flask_smorest.spec.plugins import (
    integerconverter2paramschema,
    unicodeconverter2paramschema,
)
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter, UnicodeConverter

from lms.db import session
from lms.errors import ValidationFailed

# PostgreSQL's `integer`, the type of every id: a larger number names nothing, and must be a
# 404 or a 422 rather than a query the database refuses (a 500).
DB_INT_MAX = 2**31 - 1
DB_INT = ma.validate.Range(min=-DB_INT_MAX - 1, max=DB_INT_MAX)  # for ids in inputs


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

    def route(self, rule, *, parameters=None, tags=None, **options):
        """Also document the errors every such route can answer: 401 behind login_required,
        404 with a path parameter (missing and out of scope alike)."""
        register = super().route(rule, parameters=parameters, tags=tags, **options)

        def decorator(view):
            statuses = [HTTPStatus.UNAUTHORIZED] if _signs_in(view) else []
            if "<" in rule:
                statuses.append(HTTPStatus.NOT_FOUND)
            if statuses:
                view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
                responses = view._apidoc.setdefault("response", {}).setdefault("responses", {})
                for status in statuses:
                    responses.setdefault(status.value, [status.name])
            return register(view)
        return decorator


_LOGIN_REQUIRED = login_required(lambda: None).__code__


def _signs_in(view) -> bool:
    """Whether flask_login's login_required guards view, under any other decorators."""
    while view is not None:
        if getattr(view, "__code__", None) is _LOGIN_REQUIRED:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


class IdConverter(IntegerConverter):
    """`<int:...>` in every URL: an id beyond the database's integer matches no route (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INT_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


class TextConverter(UnicodeConverter):
    """The default `<name>` part, without NUL (PostgreSQL text cannot hold it): 404."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul() -> None:
    """422 for a NUL character in an API query or body, before any lookup: PostgreSQL text
    cannot hold one, and the database's refusal would be a 500."""
    if not request.path.startswith("/api/"):
        return
    data = [list(request.args.items(multi=True)), list(request.form.items(multi=True))]
    if request.is_json:
        data.append(request.get_json(silent=True))
    if _has_nul(data):
        raise ValidationFailed(errors={"_schema": [_("Text must not contain NUL characters.")]})


class PageQuerySchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=DB_INT_MAX))
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
    # Before any feature adds its routes: the converters are bound when a rule is added.
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
    app.before_request(_refuse_nul)
    app.config.update(
        API_TITLE="Hocvuso API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = LmsApi(app)
    api.register_converter(IdConverter, integerconverter2paramschema)
    api.register_converter(TextConverter, unicodeconverter2paramschema)
    app.extensions["lms_api"] = api
