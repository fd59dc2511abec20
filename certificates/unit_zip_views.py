"""A unit's certificates as one ZIP: `POST /units/<code>/certificates.zip` (the form on the
unit's certificates page) answers with the file when the unit is small enough, else queues a
job and sends the admin to its status page; `POST /api/v1/units/<code>/certificates/zip`
always queues the job (202). Admins with MANAGE_CERTIFICATES over the unit only; 404 else."""

from __future__ import annotations

import tempfile

import marshmallow as ma
from flask import Blueprint, current_app, redirect, send_file, url_for
from flask_login import login_required

from certificates import unit_zip
from lms import limits
from lms.api import Blueprint as ApiBlueprint
from lms.audit.downloads import record_download
from lms.jobs.schemas import JobOut
from lms.jobs.views_model import job_view
from lms.security import acting_user as _user

bp = Blueprint("certificates_zip", __name__)
api = ApiBlueprint("certificates_zip_api", __name__, url_prefix="/api/v1",
                   description="A unit's certificates as one ZIP (a background job)")


class ZipJobOut(JobOut):
    status_url = ma.fields.String(metadata={"description": "the job's status page"})


@bp.post("/units/<code>/certificates.zip")
@limits.export()
@login_required
def download(code: str):
    unit = unit_zip.unit_for_zip(_user(), code)  # 404 out of scope
    limit = int(current_app.config.get("CERTIFICATE_ZIP_SYNC_MAX", unit_zip.SYNC_MAX))
    if unit_zip.count(_user(), unit) > limit:
        job = unit_zip.submit(_user(), unit)
        return redirect(url_for("jobs.show", job_id=job.id), 303)
    # PDFs rendered on the way are kept by the request's commit, before the body is sent.
    target = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it once sent
    try:
        unit_zip.write_zip(target, _user(), unit)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    record_download(unit_zip.filename(unit), unit)
    return send_file(target, mimetype="application/zip", as_attachment=True,
                     download_name=unit_zip.filename(unit), max_age=0)


@api.post("/units/<code>/certificates/zip")
@limits.export()
@login_required
@api.response(202, ZipJobOut)
def zip_job(code):
    """Queue the ZIP of the unit's valid certificates (PDFs, and the list as PDF and CSV);
    follow `status_url` (or GET /api/v1/jobs/<id>) for its download link."""
    unit = unit_zip.unit_for_zip(_user(), code)
    job = unit_zip.submit(_user(), unit)
    status_url = url_for("jobs.show", job_id=job.id)
    return {**job_view(job), "status_url": status_url}, 202, {"Location": status_url}
