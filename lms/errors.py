"""Errors services raise (LmsError and friends) and the one place they become HTTP responses:
JSON `{"code", "status", "message", "errors"?}` under /api/, an HTML page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """The configuration cannot be used; the app refuses to start."""


class LmsError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, errors: dict[str, Any] | None = None):
        super().__init__(message or self.code)
        self.message = message
        self.errors = errors


class ValidationFailed(LmsError):
    status, code = 422, "validation_failed"


class NotFound(LmsError):
    """Also what out-of-scope objects raise: we never confirm that they exist."""

    status, code = 404, "not_found"


class Forbidden(LmsError):
    status, code = 403, "forbidden"


class Conflict(LmsError):
    status, code = 409, "conflict"


class InvalidState(LmsError):
    status, code = 409, "invalid_state"


# Messages by HTTP status, for both the JSON body and the HTML page.
_MESSAGES = {
    400: lazy_gettext("The request could not be understood."),
    401: lazy_gettext("Please sign in to continue."),
    403: lazy_gettext("You are not allowed to do this."),
    404: lazy_gettext("The page or item you asked for does not exist."),
    405: lazy_gettext("This method is not allowed here."),
    409: lazy_gettext("This conflicts with the current state."),
    413: lazy_gettext("The upload is too large."),
    422: lazy_gettext("Some fields are not valid."),
    429: lazy_gettext("Too many requests. Please wait a moment and try again."),
    500: lazy_gettext("Something went wrong on our side. Please try again later."),
    503: lazy_gettext("The service is temporarily unavailable. Please try again shortly."),
}
_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    422: "validation_failed", 429: "too_many_requests", 500: "internal_error",
    503: "service_unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in {"/healthz", "/readyz"}


def error_response(status: int, code: str | None = None, message: str | None = None,
                   errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
    """Render one error the way the client expects it."""
    text = message or str(_MESSAGES.get(status, _MESSAGES[500]))
    code = code or _CODES.get(status, "error")
    if wants_json():
        body: dict[str, Any] = {"code": code, "status": status, "message": text}
        if errors:
            body["errors"] = errors
        response = jsonify(body)
    else:
        response = make_response(render_template("errors/error.html", status=status,
                                                 message=text, errors=errors))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def field_errors(error: Exception) -> dict[str, Any]:
    """Field → messages, from a marshmallow ValidationError or an LmsError."""
    if isinstance(error, ma.ValidationError):
        return error.normalized_messages()
    return getattr(error, "errors", None) or {}


def line_problems(error: ValidationFailed) -> list[dict[str, Any]]:
    """The per-line problems of a refused import, or its file-level errors as lines "-"."""
    errors = error.errors or {}
    return errors.get("lines") or [
        {"line": "-", "column": key, "message": "; ".join(map(str, messages))}
        for key, messages in errors.items()]


def _handle_validation_error(error: ma.ValidationError):
    return error_response(422, errors=field_errors(error))


def _handle_lms_error(error: LmsError):
    return error_response(error.status, error.code, error.message, error.errors)


def _handle_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    # webargs nests errors by location ({"json": {...}}); one location is all a client needs.
    if isinstance(errors, dict) and len(errors) == 1:
        (location, inner), = errors.items()
        if location in {"json", "query", "form", "files", "headers", "cookies"}:
            errors = inner
    if isinstance(errors, list):  # a whole-body error ("Invalid JSON body."): still an object
        errors = {"_schema": errors}
    message = data.get("message")
    if status == 400 and getattr(error, "description", "").startswith("The CSRF"):
        message = gettext("The form has expired or was not sent from this site. "
                          "Reload the page and try again.")
    headers = dict(data.get("headers") or {})
    if status == 429 and error.get_headers():
        headers.update({k: v for k, v in error.get_headers() if k.lower() == "retry-after"})
    return error_response(status, None, message, errors, headers)


def database_unavailable(error: BaseException | None) -> bool:
    """The database cannot be reached or is busy (restart, failover, network, a lock wait): a
    connection refused or cut, not a bug in a query. The pool's pre-ping reconnects once it is
    back."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__ == "sqlite3":  # SQLite says "no such table" with it too
        return any(m in str(error.orig) for m in ("database is locked", "unable to open"))
    return True


RETRY_AFTER_SECONDS = "5"


def _outage_response(error: BaseException):
    """503 with Retry-After, rendered without touching the database again: the request's
    session is rolled back (its connection is gone) and the page shows nobody signed in."""
    from flask import current_app, g

    from lms.db import unit_of_work

    log.warning("database unavailable: %s", type(getattr(error, "orig", None) or error).__name__)
    broken = unit_of_work().pop("session", None)
    if broken is not None:
        try:
            broken.rollback()
            broken.close()
        except Exception:  # noqa: S110 (the connection is already gone; the pool drops it)
            pass
    login_manager = getattr(current_app, "login_manager", None)
    if login_manager is not None and "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    return error_response(503, headers={"Retry-After": RETRY_AFTER_SECONDS})


def _handle_database_error(error: DBAPIError):
    if not database_unavailable(error):
        return _handle_unexpected(error)
    return _outage_response(error)


def _handle_unexpected(error: Exception):
    log.exception("unhandled error", exc_info=error)
    return _handle_http_exception(InternalServerError())


def _handle_internal_error(error: InternalServerError):
    # An error raised outside the view (the request's commit in after_request) reaches Flask
    # as a 500 wrapping it: a database outage there is a 503 too. Whether the commit landed
    # is unknown, so the client retries: every write that must not happen twice is idempotent.
    original = getattr(error, "original_exception", None)
    if database_unavailable(original):
        return _outage_response(original)
    return _handle_http_exception(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(LmsError, _handle_lms_error)
    app.register_error_handler(ma.ValidationError, _handle_validation_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(InternalServerError, _handle_internal_error)
    app.register_error_handler(DBAPIError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
