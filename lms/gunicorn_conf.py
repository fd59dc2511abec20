"""Gunicorn settings of a stateless web node: `gunicorn -c python:lms.gunicorn_conf wsgi:app`.
Sizes come from the environment; the access log is one JSON object a line with the request ID.

Environment (all optional): LMS_BIND (default 127.0.0.1:8000), LMS_WEB_WORKERS (default
2 × CPUs + 1), LMS_WEB_THREADS (default 4; above 1 the gthread worker is used),
LMS_WEB_TIMEOUT (default 30 s), LMS_WEB_GRACEFUL_TIMEOUT (default 30 s), LMS_WEB_ACCESS_LOG
(default "-", standard output; empty = no access log), LMS_WEB_KEEPALIVE (default 20 s),
LMS_WEB_MAX_REQUESTS (default 0, never recycle a worker), LMS_WEB_CONTROL_SOCKET (gunicornc's
socket; default none).

Nothing per user lives in a worker: sessions are database rows, rate-limit counters live in
RATELIMIT_STORAGE (Redis when several nodes run), jobs in the database and the broker. The app
is therefore not preloaded: each worker opens its own database pool after the fork.
"""

from __future__ import annotations

import json
import os
import time

from gunicorn import glogging


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("LMS_BIND", "127.0.0.1:8000").split(",")
workers = _int("LMS_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("LMS_WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
# A request running longer than this is killed with its worker (a PDF or an export that long
# belongs in a background job); on SIGTERM, requests in flight get graceful_timeout to finish.
timeout = _int("LMS_WEB_TIMEOUT", 30)
graceful_timeout = _int("LMS_WEB_GRACEFUL_TIMEOUT", 30)
# Idle keep-alive connections are closed after this: longer than a client's pause between two
# requests (a learner reading, a proxy's pooled upstream connection), or a request sent as the
# server closes the connection is reset and must be retried.
keepalive = _int("LMS_WEB_KEEPALIVE", 20)
max_requests = _int("LMS_WEB_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
preload_app = False  # a pool opened before the fork would be shared by every worker
accesslog = os.environ.get("LMS_WEB_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LMS_WEB_LOG_LEVEL", "info")
proc_name = "hocvuso"
logger_class = "lms.gunicorn_conf.JsonAccessLogger"
# gunicorn ≥ 25's control socket has one default path per user: two nodes on one host would
# take it from each other. Off unless LMS_WEB_CONTROL_SOCKET names a path for this node.
if os.environ.get("LMS_WEB_CONTROL_SOCKET"):
    control_socket = os.environ["LMS_WEB_CONTROL_SOCKET"]
else:
    control_socket_disable = True


class JsonAccessLogger(glogging.Logger):
    """One JSON object per request: what an aggregator parses without a grammar. The path is
    logged without its query string (an OIDC callback carries a code and a state there) and
    the request ID is the one the app answered with (X-Request-ID, lms/logs.py)."""

    def access(self, resp, req, environ, request_time) -> None:
        if not self.cfg.accesslog:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": headers.get("x-request-id", "-"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "ms": round(request_time.total_seconds() * 1000, 1),
            "remote": environ.get("REMOTE_ADDR"),
            "pid": os.getpid(),
        }
        try:
            self.access_log.info(json.dumps(record, ensure_ascii=False))
        except Exception:  # a log line must never fail a request
            self.exception("access log failed")
