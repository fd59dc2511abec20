"""/api/v1/jobs/<id>: a job's state and download link, for its requester only."""

from __future__ import annotations

from lms.api import Blueprint
from lms.jobs.queries import get_job
from lms.jobs.schemas import JobOut
from lms.jobs.views_model import job_view
from lms.security import acting_user as _user

blp = Blueprint("jobs_api", __name__, url_prefix="/api/v1",
                description="Background jobs (imports, exports)")


@blp.get("/jobs/<job_id>")
@blp.response(200, JobOut)
def get(job_id):
    """The job, if you requested it (404 for anyone else, anonymous included)."""
    return job_view(get_job(_user(), job_id))
