"""Running one job: it owns its transactions. Mark it running (commit), run the registered
function in one transaction with the result (commit), or roll that back and record a failure
the requester may read: an LmsError's message, else a generic text (details go to the log)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.db import get_db, session, transaction, utcnow
from lms.errors import LmsError
from lms.jobs.models import Job, JobStatus
from lms.jobs.recovery import Heartbeat, lease
from lms.jobs.service import TASKS

log = logging.getLogger(__name__)

GENERIC_FAILURE = _l("The job failed. Please try again later; if it fails again, contact "
                     "your administrator.")
UNKNOWN_KIND = _l("This kind of job is not available on this server.")


def generic_failure(locale: str) -> str:
    g.lms_job_locale = locale  # flask_babel's force_locale does nothing while `g` is empty
    with force_locale(locale):
        return str(GENERIC_FAILURE)


def result_ttl() -> timedelta:
    return timedelta(seconds=int(current_app.config["JOB_RESULT_TTL"]))


def run_job(job_id: str) -> None:
    """Run the queued job job_id in the current app context. A job that is not queued (run
    already, or redelivered by the broker after a worker was lost) is left alone."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with transaction():
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.status is not JobStatus.QUEUED:
            log.warning("job %s is not queued (%s); not run again", job_id,
                        job.status.value if job else "missing")
            return
        job.status, job.started_at, job.error = JobStatus.RUNNING, utcnow(), None
        job.expires_at = job.started_at + lease(app)  # renewed by the heartbeat
        started_at = job.started_at
    task = TASKS.get(job.kind)
    g.lms_job_locale = job.locale  # see generic_failure
    heartbeat = Heartbeat(app, job_id, started_at).start()
    with force_locale(job.locale):
        if task is None:
            heartbeat.stop()
            log.error("job %s: no task registered for kind %r", job_id, job.kind)
            _fail(job_id, str(UNKNOWN_KIND))
            return
        try:
            with transaction():
                result = task.function(job, **(job.params or {}))
                _still_ours(job_id, started_at)
                job.result = dict(result or {})
                job.status, job.finished_at = JobStatus.DONE, utcnow()
                job.expires_at = job.finished_at + result_ttl()
        except Superseded:
            log.warning("job %s was taken back while it ran (lease lapsed); this run's "
                        "writes are rolled back", job_id)
        except LmsError as exc:
            log.info("job %s (%s) refused: %s", job_id, job.kind, exc.code)
            _fail(job_id, str(exc.message or GENERIC_FAILURE), started_at)
        except Exception:
            log.exception("job %s (%s) failed", job_id, job.kind)
            _fail(job_id, str(GENERIC_FAILURE), started_at)
        finally:
            heartbeat.stop()


class Superseded(Exception):
    """The job's lease lapsed and a sweep gave it to another run: this run must not commit."""


def _still_ours(job_id: str, started_at) -> None:
    """Lock the job row and check this run still owns it (a fencing token: its start time).
    Raises Superseded otherwise; the caller's transaction rolls back the task's writes."""
    status, started = session.execute(
        select(Job.status, Job.started_at).where(Job.id == job_id).with_for_update()).one()
    if status is not JobStatus.RUNNING or started != started_at:
        raise Superseded(job_id)


def _fail(job_id: str, message: str, started_at=None) -> None:
    with transaction():
        job = session.get(Job, job_id)
        if job is not None and (started_at is None or (
                job.status is JobStatus.RUNNING and job.started_at == started_at)):
            job.status, job.error = JobStatus.FAILED, message
            job.finished_at = utcnow()
            job.expires_at = job.finished_at + result_ttl()


def report_progress(job: Job, percent: int) -> None:
    """Show progress on the status page while the job's own transaction is still open. Written
    through a separate connection; on SQLite the job holds the database's one write lock, so
    there progress is not shown rather than deadlocking on it."""
    percent = max(0, min(100, int(percent)))
    database = get_db()
    if database.engine.dialect.name == "sqlite":
        return
    with database.session_factory() as own:
        row = own.get(Job, job.id)
        if row is not None:
            row.progress = percent
            own.commit()
