"""Job pages: the status page (refreshes itself while the job runs) and the download of its
result, both for the requester only."""

from __future__ import annotations

from flask import Blueprint, render_template, send_file
from flask_babel import gettext as _

from lms import limits
from lms.audit.downloads import audited_get, record_download
from lms.db import utcnow
from lms.errors import InvalidState, LmsError
from lms.jobs.models import JobStatus
from lms.jobs.queries import get_job
from lms.jobs.views_model import job_view
from lms.security import acting_user as _user
from lms.storage import open_result

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")
REFRESH_SECONDS = 3


class Expired(LmsError):
    status, code = 410, "gone"


# No login_required: an anonymous visitor gets the same 404 as anyone else who is not the
# requester, not a sign-in page that would confirm the job exists.
@bp.get("/<job_id>")
def show(job_id: str):
    job = get_job(_user(), job_id)
    response = render_template("jobs/job.html", job=job_view(job), Status=JobStatus)
    headers = {}
    if not job.is_finished:
        # The HTTP form of <meta http-equiv="refresh">: no script, so the CSP holds.
        headers["Refresh"] = str(REFRESH_SECONDS)
    return response, 200, headers


@bp.get("/<job_id>/download")
@limits.export()
@audited_get
def download(job_id: str):
    job = get_job(_user(), job_id)
    if job.status is not JobStatus.DONE:
        raise InvalidState(_("The job has not finished; there is nothing to download yet."))
    result = job.result or {}
    if not result.get("file"):
        raise InvalidState(_("This job has no file to download."))
    expired = Expired(_("The download link has expired. Run the job again to get a new "
                        "file."))
    if job.is_expired(utcnow()):
        raise expired
    stream = open_result(result["file"])
    if stream is None:  # swept from storage
        raise expired
    record_download(result.get("filename") or job.kind, job.unit_id, job=job.kind)
    return send_file(stream, mimetype=result.get("content_type") or "application/octet-stream",
                     as_attachment=True, download_name=result.get("filename") or "result",
                     max_age=0)
