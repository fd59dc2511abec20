"""The Celery app for a Flask app: broker = BROKER_URL (Redis), no result backend (a job's
state lives in its row), one task `lms.jobs.run(job_id)` that runs a job in an app context."""

from __future__ import annotations

from celery import Celery
from flask import Flask


def make_celery(app: Flask) -> Celery:
    celery = Celery(app.import_name, broker=app.config["BROKER_URL"], set_as_current=False)
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        # A job is acknowledged once it has run, and a worker takes one at a time: a worker
        # that dies mid-job hands the message back rather than losing it (the runner skips a
        # job that is no longer queued, so a redelivery never runs it twice).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        # Redis hands an unacknowledged message to another worker after this long: longer
        # than any job runs (a national export is minutes, not hours).
        # Socket timeouts: a Redis that does not answer (down, or packets dropped) must not
        # hold a web request; the job stays queued and the workers' sweep sends it later.
        broker_transport_options={"visibility_timeout": int(
            app.config.get("JOB_VISIBILITY_TIMEOUT", 6 * 3600)),
            "socket_timeout": 5, "socket_connect_timeout": 2},
        broker_connection_timeout=2,
        # A web request that cannot reach the broker gives up quickly; the job stays queued
        # with a notice (lms/jobs/recovery.py).
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0,
                                   "interval_step": 0.5, "interval_max": 1},
    )

    @celery.task(name="lms.jobs.run")
    def run(job_id: str) -> None:
        from lms.jobs.service import run_in_app

        run_in_app(app, job_id)

    return celery
