"""Reading jobs: only the requester ever sees a job; for anyone else it does not exist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.db import session
from lms.errors import NotFound
from lms.jobs.models import Job


def get_job(user: Any, job_id: str) -> Job:
    """The job job_id if `user` requested it. Raises NotFound otherwise, anonymous included
    (never Forbidden: we do not confirm that someone else's job exists)."""
    if not getattr(user, "is_authenticated", False) or len(job_id) > 43:
        raise NotFound()
    job = session.execute(select(Job).where(Job.id == job_id, Job.requested_by_id == user.id)
                          ).scalar_one_or_none()
    if job is None:
        raise NotFound()
    return job
