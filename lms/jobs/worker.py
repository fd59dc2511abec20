"""The Celery worker's entry point: `celery -A lms.jobs.worker worker`. It builds the app from
the environment and config file, as wsgi.py does, so the worker knows every job kind."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_ready, worker_shutdown

from lms.app import create_app
from lms.db import get_db
from lms.errors import ConfigError
from lms.jobs.recovery import Sweeper
from lms.jobs.service import runner

flask_app = create_app()  # not `app`: celery -A looks for that name first
if not flask_app.config.get("BROKER_URL"):
    raise ConfigError("LMS_BROKER_URL is not set: a Celery worker needs the broker (Redis) URL")
celery = runner(flask_app).celery()


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not reuse its parent's database connections."""
    get_db(flask_app).engine.dispose(close=False)


_sweepers: list[Sweeper] = []


@worker_ready.connect
def _start_sweeper(**_: Any) -> None:
    """Every worker sweeps: jobs the broker refused or lost are sent again, jobs whose worker
    died run again (lms/jobs/recovery.py). Several sweepers do no harm."""
    _sweepers.append(Sweeper(flask_app).start())


@worker_shutdown.connect
def _stop_sweeper(**_: Any) -> None:
    for sweeper in _sweepers:
        sweeper.stop()
