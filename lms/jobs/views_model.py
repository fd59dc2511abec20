"""What both the status page and the API show of a job (one place, so they cannot drift)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from lms.db import utcnow
from lms.jobs.models import Job, JobStatus
from lms.jobs.service import TASKS


def _local(path: Any) -> bool:
    return isinstance(path, str) and path.startswith("/") and not path.startswith(("//", "/\\"))


def job_view(job: Job) -> dict[str, Any]:
    result = {k: v for k, v in (job.result or {}).items() if k != "file"}
    # expires_at is the deadline of the job's state (lms/jobs/recovery.py): only a finished
    # job's is the download's.
    expired = job.is_expired(utcnow())
    queued = job.status is JobStatus.QUEUED
    has_file = job.status is JobStatus.DONE and bool((job.result or {}).get("file"))
    task = TASKS.get(job.kind)
    next_url = (job.result or {}).get("next")
    return {
        "id": job.id, "kind": job.kind, "label": str(task.label) if task and task.label
        else job.kind, "status": job.status, "progress": job.progress,
        "error": job.error if job.status is JobStatus.FAILED else None,
        # Why a queued job waits (its queue is unavailable, or it was interrupted).
        "notice": job.error if queued else None,
        "result": result if job.status is JobStatus.DONE else None,
        "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at if job.is_finished else None,
        "expired": expired, "has_file": has_file,
        "download_url": url_for("jobs.download", job_id=job.id)
        if has_file and not expired else None,
        # A job may point to the next step (a checked roster's save page): a path of this
        # site only, never another host.
        "next_url": next_url if job.status is JobStatus.DONE and _local(next_url) else None,
    }
