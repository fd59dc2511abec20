"""Background jobs: `@task("kind")` registers `fn(job, **params) -> result`, `submit(kind,
user=..., **params)` queues one after the caller commits. Celery with Redis runs them when
LMS_BROKER_URL is set; otherwise a thread pool in this process does (docs/jobs.md)."""

from __future__ import annotations

import importlib

from flask import Flask

from lms.jobs.models import Job, JobStatus
from lms.jobs.runner import report_progress
from lms.jobs.service import JobRunner, submit, task, wait_all

__all__ = ["Job", "JobStatus", "init_app", "report_progress", "submit", "task", "wait_all"]


def init_app(app: Flask) -> None:
    from lms.jobs import api, views

    app.config.setdefault("JOB_RESULT_TTL", 24 * 3600)  # seconds a result stays downloadable
    # Faults (lms/jobs/recovery.py): a running job renews its lease every JOB_HEARTBEAT
    # seconds and is taken back after 4 missed beats; a queued job is sent again after
    # JOB_REDISPATCH_AFTER seconds; a job interrupted JOB_MAX_ATTEMPTS times fails.
    app.config.setdefault("JOB_HEARTBEAT", 30)
    app.config.setdefault("JOB_REDISPATCH_AFTER", 600)
    app.config.setdefault("JOB_MAX_ATTEMPTS", 3)
    for key in ("JOB_RESULT_TTL", "JOB_HEARTBEAT", "JOB_REDISPATCH_AFTER", "JOB_MAX_ATTEMPTS"):
        app.config[key] = int(app.config[key])
    # In-process mode: one thread on SQLite (one writer at a time anyway), two otherwise.
    threads = 1 if app.config["DATABASE_URL"].startswith("sqlite") else 2
    app.extensions["lms_jobs"] = JobRunner(app, threads=int(app.config.get("JOB_THREADS",
                                                                           threads)))
    # Extra modules that register job kinds (LMS_JOB_MODULES="a.b,c.d"): a worker must import
    # every module a web node submits kinds from.
    modules = app.config.get("JOB_MODULES") or []
    if isinstance(modules, str):
        modules = [m.strip() for m in modules.split(",") if m.strip()]
    for module in modules:
        importlib.import_module(module)
    app.extensions["lms_api"].register_blueprint(api.blp)
    app.register_blueprint(views.bp)
