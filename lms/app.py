"""The app factory: the one place that imports every feature package to call init_app."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import MetaData
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import api, cli, db, errors, i18n, limits, logs, security, views
from lms.config import load_config
from lms.db import Base

# Listed, not imported by name: an unused-import fixer must never drop a table from Alembic.
MODEL_MODULES = (
    "lms.models", "lms.jobs.models", "lms.audit.models", "courses.models", "enrollment.models",
    "enrollment.assignments.models", "enrollment.rosters.models", "enrollment.reports.models",
    "enrollment.reports.snapshot_models", "certificates.models",
)


def load_models() -> MetaData:
    """Every package's models on one metadata (Alembic and the schema tests need them all)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)

    return Base.metadata


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_config(config)
    app = Flask("lms", root_path=str(Path(__file__).parent),
                static_folder=str(Path(__file__).parent.parent / "static"))
    app.config.update(settings)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX"],  # type: ignore[method-assign]
                                x_proto=app.config["PROXY_FIX"], x_host=app.config["PROXY_FIX"])
    logs.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    limits.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    views.init_app(app)

    from lms import audit, auth, demo, jobs, people, units

    jobs.init_app(app)
    audit.init_app(app)
    units.init_app(app)
    people.init_app(app)
    auth.init_app(app)
    demo.init_app(app)

    import certificates
    import courses
    import enrollment

    courses.init_app(app)
    enrollment.init_app(app)
    certificates.init_app(app)
    return app
