"""Jobs that lost their queue or their worker (docs/jobs.md, "Faults"). A row's `expires_at`
is the deadline of its current state: queued, when its message is presumed lost and it is sent
again; running, its lease, renewed by heartbeats, after which its worker is presumed dead and
the job runs again (JOB_MAX_ATTEMPTS runs, then it fails); finished, the download's expiry.
`sweep` does both; Celery workers run it every JOB_HEARTBEAT seconds."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from lms.db import get_db, utcnow
from lms.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

QUEUE_UNAVAILABLE = _l("The job queue is unavailable at the moment. The job is kept and will "
                       "start as soon as the queue is back.")
INTERRUPTED = _l("The job was interrupted (the server running it stopped); it will run "
                 "again.")
GAVE_UP = _l("The job was interrupted several times and has been stopped. Please try again "
             "later; if it fails again, contact your administrator.")
SWEEP_BATCH = 500


def heartbeat_seconds(app: Flask) -> int:
    return int(app.config["JOB_HEARTBEAT"])


def lease(app: Flask) -> timedelta:
    """How long a running job is trusted without a heartbeat. On SQLite the running job holds
    the database's one write lock, so no heartbeat can be written: its lease is the broker's
    visibility timeout, "longer than any job runs"."""
    if get_db(app).engine.dialect.name == "sqlite":
        return timedelta(seconds=int(app.config.get("JOB_VISIBILITY_TIMEOUT", 6 * 3600)))
    return timedelta(seconds=4 * heartbeat_seconds(app))


def redispatch_after(app: Flask) -> timedelta:
    return timedelta(seconds=int(app.config["JOB_REDISPATCH_AFTER"]))


def translated(text: Any, locale: str) -> str:
    g.lms_job_locale = locale  # flask_babel's force_locale does nothing while `g` is empty
    with force_locale(locale):
        return str(text)


def note_unavailable(app: Flask, job_id: str) -> None:
    """The broker refused the job: it stays queued, says why, and the next sweep sends it."""
    with app.app_context(), get_db(app).session_factory() as own:
        job = own.get(Job, job_id)
        if job is not None and job.status is JobStatus.QUEUED:
            job.error = translated(QUEUE_UNAVAILABLE, job.locale)
            job.expires_at = utcnow()
            own.commit()


class Heartbeat:
    """Renews a running job's lease from a thread with its own connection (PostgreSQL), until
    stopped. A job whose worker dies stops beating, and `sweep` takes it back."""

    def __init__(self, app: Flask, job_id: str, started_at: datetime) -> None:
        self.app, self.job_id, self.started_at = app, job_id, started_at
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        if get_db(self.app).engine.dialect.name != "sqlite":
            self._thread = threading.Thread(target=self._beat, name="lms-job-heartbeat",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        interval = heartbeat_seconds(self.app)
        while not self._stop.wait(interval):
            try:
                with self.app.app_context(), get_db(self.app).session_factory() as own:
                    own.execute(update(Job).where(
                        Job.id == self.job_id, Job.status == JobStatus.RUNNING,
                        Job.started_at == self.started_at,
                    ).values(expires_at=utcnow() + lease(self.app)))
                    own.commit()
            except Exception:  # a missed beat is retried; the lease allows for several
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)


def sweep(app: Flask) -> dict[str, int]:
    """Take back running jobs whose lease lapsed (run again, or fail after JOB_MAX_ATTEMPTS
    runs), then dispatch queued jobs whose deadline passed (a broker that refused them or
    lost them). Each change is a compare-and-set, so several sweepers do no harm; a job sent
    twice runs once (the runner skips a job that is no longer queued)."""
    counts = {"requeued": 0, "failed": 0, "dispatched": 0, "unavailable": 0}
    now = utcnow()
    database = get_db(app)
    with app.app_context(), database.session_factory() as own:
        lost = own.execute(select(Job).where(
            Job.status == JobStatus.RUNNING,
            or_(Job.expires_at < now, and_(Job.expires_at.is_(None),  # rows from before leases
                                           Job.started_at < now - lease(app))),
        ).limit(SWEEP_BATCH)).scalars().all()
        for job in lost:
            runs = int((job.result or {}).get("interrupted", 0)) + 1
            gave_up = runs >= int(app.config["JOB_MAX_ATTEMPTS"])
            values: dict[str, Any] = (
                {"status": JobStatus.FAILED, "error": translated(GAVE_UP, job.locale),
                 "result": None, "finished_at": now, "expires_at": now + timedelta(
                     seconds=int(app.config["JOB_RESULT_TTL"]))} if gave_up else
                {"status": JobStatus.QUEUED, "error": translated(INTERRUPTED, job.locale),
                 "result": {"interrupted": runs}, "started_at": None, "progress": None,
                 "expires_at": now})
            changed = own.execute(update(Job).where(
                Job.id == job.id, Job.status == JobStatus.RUNNING,
                Job.started_at == job.started_at).values(**values)).rowcount
            own.commit()
            if changed:
                log.warning("job %s (%s) lost its worker after run %s: %s", job.id, job.kind,
                            runs, "failed" if gave_up else "queued again")
                counts["failed" if gave_up else "requeued"] += 1
        due = own.execute(select(Job.id).where(
            Job.status == JobStatus.QUEUED,
            or_(Job.expires_at <= now, and_(Job.expires_at.is_(None),
                                            Job.created_at <= now - redispatch_after(app))),
        ).order_by(Job.created_at).limit(SWEEP_BATCH)).scalars().all()
    for job_id in due:
        counts["dispatched" if redispatch(app, job_id) else "unavailable"] += 1
    return counts


def redispatch(app: Flask, job_id: str) -> bool:
    """Send a queued job again; True when it reached the broker (or the in-process pool)."""
    from lms.jobs.service import runner

    jobs = runner(app)
    if jobs.broker_url:
        try:
            jobs.celery().send_task("lms.jobs.run", args=[job_id])
        except Exception:
            log.warning("job %s: the broker is still unavailable", job_id)
            note_unavailable(app, job_id)
            return False
    with app.app_context(), get_db(app).session_factory() as own:
        own.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                    .values(error=None, expires_at=utcnow() + redispatch_after(app)))
        own.commit()
    if not jobs.broker_url:
        jobs.start_thread(job_id)
    return True


class Sweeper:
    """A daemon thread sweeping every JOB_HEARTBEAT seconds (in each Celery worker)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lms-job-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while True:
            try:
                counts = sweep(self.app)
                if any(counts.values()):
                    log.info("job sweep: %s", counts)
            except Exception:  # the database is down: try again at the next beat
                log.warning("job sweep failed", exc_info=True)
            if self._stop.wait(heartbeat_seconds(self.app)):
                return
