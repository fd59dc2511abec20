"""Downloads are audited in their views (a download writes nothing else). `@audited_get`
marks such a GET view: on SQLite its transaction must start with the write lock, before the
rate limiter or Flask-Login first read the database (lms.db.needs_write_lock); the request's
usual commit (lms.db, any answer below 400, GETs included) then keeps the event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from lms.audit.models import AuditEvent
from lms.audit.service import record
from lms.db import needs_write_lock
from lms.units.models import Unit

F = TypeVar("F", bound=Callable[..., Any])
MARK = "lms_audited_get"


def audited_get(view: F) -> F:
    """Mark a GET view that records an audit event (see the module docstring)."""
    setattr(view, MARK, True)
    return view


def record_download(what: str, unit: Unit | int | None = None, **details: Any) -> AuditEvent:
    """One "exports.download" event: what (a file name or kind, never a personal ID)."""
    return record("exports.download", unit=unit, target=what, details=details)


def _marked(view: Any) -> bool:
    while view is not None:
        if getattr(view, MARK, False):
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def _take_write_lock() -> None:
    if request.endpoint and _marked(current_app.view_functions.get(request.endpoint)):
        needs_write_lock()


def init_app(app: Flask) -> None:
    # First of all before_request hooks: Flask-Limiter's own reads the signed-in user.
    app.before_request_funcs.setdefault(None, []).insert(0, _take_write_lock)
