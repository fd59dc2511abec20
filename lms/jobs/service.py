"""Submitting jobs: the task registry, `submit` (a queued row, flushed in the caller's session)
and the dispatch after the caller commits, to Celery when a broker is configured, else to a
small thread pool in this process (or at once, outside a request: CLI commands)."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_request_context
from flask_babel import get_locale

from lms.db import after_commit, get_db, session, utcnow
from lms.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

TaskFunction = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Task:
    kind: str
    function: TaskFunction
    label: Any = None  # a lazy_gettext string for the status page; the kind when absent


TASKS: dict[str, Task] = {}


def task(kind: str, *, label: Any = None) -> Callable[[TaskFunction], TaskFunction]:
    """Register `fn(job, **params) -> dict` (the result) as the job kind `kind`. The module
    must be imported by the app factory (a package's init_app, or LMS_JOB_MODULES), so that a
    Celery worker, which builds the same app, knows the kind too."""

    def register(function: TaskFunction) -> TaskFunction:
        existing = TASKS.get(kind)
        if existing is not None and existing.function.__qualname__ != function.__qualname__:
            raise ValueError(f"job kind {kind!r} is already registered")
        TASKS[kind] = Task(kind, function, label)
        return function

    return register


def submit(kind: str, *, user: Any, unit: Any = None, **params: Any) -> Job:
    """A queued job for `user`, flushed in the caller's session; it is dispatched after the
    caller's request or command commits, and never if it rolls back. params must be JSON
    values, and hold no personal ID (the row lives on). Raises KeyError for an unknown kind."""
    if kind not in TASKS:
        raise KeyError(f"no job kind {kind!r} is registered")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = utcnow()
    # expires_at of a queued job: when, still queued, it is presumed lost and sent again
    # (lms/jobs/recovery.py).
    job = Job(kind=kind, requested_by_id=user.id, unit_id=unit.id if unit is not None else None,
              status=JobStatus.QUEUED, locale=str(get_locale() or "vi"), params=params,
              created_at=now, expires_at=now + timedelta(
                  seconds=int(app.config["JOB_REDISPATCH_AFTER"])))
    session.add(job)
    session.flush()
    inline = not has_request_context()
    job_id = job.id
    after_commit(lambda: dispatch(app, job_id, inline=inline))
    return job


@dataclass
class JobRunner:
    """Per-app dispatch state. The pool is made on first use and again after a fork (gunicorn
    workers must not share threads with their parent)."""

    app: Flask
    threads: int = 1
    _pool: concurrent.futures.ThreadPoolExecutor | None = None
    _pid: int = 0
    _futures: set[concurrent.futures.Future] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _celery: Any = None

    @property
    def broker_url(self) -> str | None:
        return self.app.config.get("BROKER_URL") or None

    def celery(self) -> Any:
        if self._celery is None:
            from lms.jobs.celery_app import make_celery

            self._celery = make_celery(self.app)
        return self._celery

    def pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.threads, thread_name_prefix="lms-job")
                self._pid = os.getpid()
                self._futures = set()
            return self._pool

    def start_thread(self, job_id: str) -> None:
        future = self.pool().submit(run_in_app, self.app, job_id)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def pending(self) -> set[concurrent.futures.Future]:
        with self._lock:
            return set(self._futures)


def runner(app: Flask | None = None) -> JobRunner:
    return (app or current_app).extensions["lms_jobs"]


def dispatch(app: Flask, job_id: str, *, inline: bool = False) -> None:
    """Hand a committed job to whatever runs jobs. Called after commit, never before: a worker
    must find the row."""
    jobs = runner(app)
    if jobs.broker_url:
        try:
            jobs.celery().send_task("lms.jobs.run", args=[job_id])
        except Exception:  # the broker is down: the job stays queued, says so, and the
            # workers' sweep sends it when the broker is back (lms/jobs/recovery.py)
            log.warning("cannot send job %s to the broker; it stays queued", job_id,
                        exc_info=True)
            from lms.jobs.recovery import note_unavailable

            note_unavailable(app, job_id)
    elif inline:
        run_in_app(app, job_id)
    else:
        jobs.start_thread(job_id)


def run_in_app(app: Flask, job_id: str) -> None:
    """Run one job in its own app context (its own session and transactions)."""
    from lms.jobs.runner import run_job

    try:
        with app.app_context():
            run_job(job_id)
    except Exception:  # the database itself failed; nothing else can record it
        log.exception("job %s could not be run", job_id)


def mark_failed(app: Flask, job_id: str, message: str | None) -> None:
    """Record a failure from outside the job's own transaction (a separate session)."""
    from lms.jobs.runner import generic_failure

    with app.app_context(), get_db(app).session_factory() as own:
        job = own.get(Job, job_id)
        if job is not None and not job.is_finished:
            job.status, job.finished_at = JobStatus.FAILED, utcnow()
            job.error = message or generic_failure(job.locale)
            own.commit()


def wait_all(timeout: float | None = None, app: Flask | None = None) -> bool:
    """Wait for this process's in-process jobs (and the jobs they submit) to finish; True when
    none is left. For tests and CLI commands; Celery jobs are not waited for."""
    jobs = runner(app)
    deadline = None if timeout is None else utcnow().timestamp() + timeout
    while pending := jobs.pending():
        left = None if deadline is None else deadline - utcnow().timestamp()
        if left is not None and left <= 0:
            return False
        concurrent.futures.wait(pending, timeout=left)
    return True
