"""Pages every feature shares: home, language switch, health and readiness probes."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify, render_template
from sqlalchemy import text

from lms.db import session

bp = Blueprint("lms", __name__)
log = logging.getLogger(__name__)


@bp.get("/")
def home():
    return render_template("home.html")


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. Touches nothing else."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: the database answers, and the broker (Redis PING) when one is configured.
    503 in the one error shape, naming what failed, so a load balancer stops routing here."""
    failed = {}
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any failure means "do not route traffic here"
        log.warning("readyz: the database does not answer", exc_info=True)
        failed["database"] = ["unavailable"]
    broker = current_app.config.get("BROKER_URL")
    if broker and not broker_answers(broker):
        failed["broker"] = ["unavailable"]
    if failed:
        return jsonify(code="service_unavailable", status=503,
                       message=" and ".join(failed) + " unavailable", errors=failed), 503
    return jsonify(status="ready")


def broker_answers(url: str, timeout: float = 1.0) -> bool:
    """PING the broker (Redis), giving up after `timeout` seconds; never raises."""
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            with redis.Redis.from_url(url, socket_timeout=timeout,
                                      socket_connect_timeout=timeout) as client:
                return bool(client.ping())
        from kombu import Connection

        with Connection(url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
            return True
    except Exception:
        log.warning("readyz: the broker does not answer", exc_info=True)
        return False


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
