"""Request IDs in every log line, and personal ID numbers masked before anything is written."""

from __future__ import annotations

import logging
import re
import secrets

from flask import Flask, g, has_request_context, request

from lms.pii import redact_personal_ids

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestContextFilter(logging.Filter):
    """Adds record.request_id and masks 12-digit numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        message = record.getMessage()
        redacted = redact_personal_ids(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def request_id() -> str:
    return g.get("request_id", "-")


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger("lms")
    if not any(isinstance(f, RequestContextFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("courses", "enrollment", "certificates", "werkzeug"):
        logging.getLogger(name).addFilter(RequestContextFilter())

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.fullmatch(incoming) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response
