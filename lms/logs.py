"""Request IDs in every log line, personal ID numbers masked before anything is written, and
LOG_FORMAT=json: one JSON object a line (with a line per request: status and duration)."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

from lms.pii import redact_personal_ids

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
access_log = logging.getLogger("lms.request")


class RequestContextFilter(logging.Filter):
    """Adds record.request_id (and the request's method and path, without its query string)
    and masks 12-digit numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            record.method = getattr(record, "method", None) or request.method
            record.path = getattr(record, "path", None) or redact_personal_ids(request.path)
        else:
            record.request_id = getattr(record, "request_id", "-")
        message = record.getMessage()
        redacted = redact_personal_ids(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """time (UTC, ISO 8601), level, logger, message, request_id, and where known method, path,
    status, duration_ms; an exception's traceback as "exception", personal IDs masked."""

    FIELDS = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_personal_ids(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = redact_personal_ids(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def log_format(config) -> str:
    """LOG_FORMAT, or by default json in production and text elsewhere."""
    chosen = (config.get("LOG_FORMAT") or "").strip().lower()
    if chosen in {"json", "text"}:
        return chosen
    return "json" if config.get("ENV") == "production" else "text"


def make_handler(fmt: str, stream=None) -> logging.Handler:
    """A handler of the given format ("json" | "text") with the request filter."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestContextFilter())
    handler._lms_handler = True  # type: ignore[attr-defined]
    return handler


def request_id() -> str:
    return g.get("request_id", "-")


def init_app(app: Flask) -> None:
    fmt = log_format(app.config)
    app.config["LOG_FORMAT"] = fmt
    root = logging.getLogger("lms")
    ours = [h for h in root.handlers if getattr(h, "_lms_handler", False)]
    if ours:  # one handler a process; the latest app's format wins (one app a process)
        ours[0].setFormatter(make_handler(fmt).formatter)
    else:
        root.addHandler(make_handler(fmt))
    root.setLevel(logging.INFO)
    for name in ("courses", "enrollment", "certificates", "werkzeug"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RequestContextFilter) for f in logger.filters):
            logger.addFilter(RequestContextFilter())

    @app.before_request
    def _assign_request_id() -> None:
        g.request_started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.fullmatch(incoming) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        if app.config["LOG_FORMAT"] == "json" and "request_started" in g:
            # The request's own line (gunicorn's access log may say the same without the
            # logger fields: docs/operations.md). The path never carries the query string.
            took = (time.perf_counter() - g.request_started) * 1000
            access_log.info("%s %s %s", request.method, redact_personal_ids(request.path),
                            response.status_code, extra={
                                "status": response.status_code,
                                "duration_ms": round(took, 1)})
        return response
