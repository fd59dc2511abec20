"""Pages every feature shares: home, language switch, health and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, render_template
from sqlalchemy import text

from lms.db import session

bp = Blueprint("lms", __name__)


@bp.get("/")
def home():
    return render_template("home.html")


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. Touches nothing else."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: the database answers."""
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any failure means "do not route traffic here"
        return jsonify(code="service_unavailable", status=503,
                       message="database unavailable"), 503
    return jsonify(status="ready")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
