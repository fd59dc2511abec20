"""Roster pages: the list, the upload that always checks first, the problems as CSV, and the
import of the very file that was checked."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from enrollment.assignments.queries import assignments_for_unit, today_local
from enrollment.reports.figures import unit_figures
from enrollment.rosters import jobs as roster_jobs  # noqa: F401 (registers the job kinds)
from enrollment.rosters import queries, service
from enrollment.rosters.importer import import_roster, roster_unit, staged_report
from enrollment.rosters.models import ExemptReason
from lms import jobs, limits
from lms.db import session
from lms.errors import InvalidState, ValidationFailed, line_problems
from lms.exports import csv_bytes
from lms.security import acting_user as _user
from lms.storage import keep_upload, load_upload

bp = Blueprint("rosters", __name__, url_prefix="/units", template_folder="templates")
MAX_LISTED = 500



def column_labels() -> dict[str, str]:
    """The file's columns as a person names them (the API keeps the stable keys)."""
    return {"full_name": _("Full name"), "personal_id": _("Personal ID"),
            "birth_date": _("Birth date"), "group_unit": _("Class or department"),
            "sex": _("Sex"), "group_label": _("Group"), "file": _("File")}


@bp.get("/<code>/roster")
@login_required
def show(code: str):
    unit = roster_unit(_user(), code)
    rows = session.execute(queries.entries_under(_user(), unit).limit(MAX_LISTED)).all()
    # The dashboard's figures (docs/figures.md: exempt, left, re-enrolled), so both agree
    assignments = assignments_for_unit(_user(), unit)
    today = today_local()
    by_course = {course: unit_figures(unit, today, [course]).figures
                 for course in {a["course_code"] for a in assignments}}
    figures = [{**a, "figures": by_course[a["course_code"]]} for a in assignments]
    conflicts = session.execute(queries.open_conflicts(_user(), unit)).scalars().all()
    return render_template("rosters/roster.html", unit=unit, figures=figures,
                           entries=[queries.entry_view(e, c) for e, c in rows],
                           conflicts=conflicts, reasons=list(ExemptReason))


@bp.post("/<code>/roster/entries/<int:entry_id>/exemption")
@login_required
def exemption(code: str, entry_id: int):
    roster_unit(_user(), code)
    try:
        if request.form.get("action") == "end":
            service.end_exemption(_user(), entry_id)
        else:
            service.exempt(_user(), entry_id, ExemptReason(request.form.get("reason", "")),
                           (request.form.get("note") or "")[:500] or None)
    except ValueError:
        flash(_("Choose a reason."), "error")
    except InvalidState as exc:
        flash(exc.message or "", "error")
    return redirect(url_for("rosters.show", code=code), 303)


@bp.post("/<code>/roster/conflicts/<int:conflict_id>")
@login_required
def resolve(code: str, conflict_id: int):
    roster_unit(_user(), code)
    service.resolve_conflict(_user(), conflict_id, None)
    flash(_("The conflict was closed; the entry is not linked to any account."), "success")
    return redirect(url_for("rosters.show", code=code), 303)


@bp.post("/<code>/roster/check")
@limits.upload()
@login_required
def check(code: str):
    unit = roster_unit(_user(), code)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or XLSX file."), "error")
        return redirect(url_for("rosters.show", code=code), 303)
    data = upload.read()
    key = keep_upload(data, {"user_id": _user().id, "unit": unit.code,
                             "filename": upload.filename})
    if _large(data):
        job = jobs.submit("rosters.check", user=_user(), unit=unit, unit_code=unit.code,
                          upload=key, level=_user().session_level)
        return redirect(url_for("jobs.show", job_id=job.id), 303)
    try:
        report = import_roster(_user(), code, upload.filename, data, dry_run=True)
    except ValidationFailed as exc:  # the file itself (encoding, columns) was refused
        return render_template("rosters/report.html", unit=unit, report=None,
                               problems=line_problems(exc), key=None,
                               labels=column_labels()), 422
    return render_template("rosters/report.html", unit=unit, report=report,
                           problems=report.problems, key=key, labels=column_labels(),
                           import_key=secrets.token_urlsafe(16)), 200 if report.valid else 422


def _large(data: bytes) -> bool:
    """Files over ROSTER_SYNC_MAX_BYTES (about 150,000 lines by default) are checked and
    saved by background jobs, within the request time limits."""
    return len(data) > current_app.config["ROSTER_SYNC_MAX_BYTES"]


@bp.get("/<code>/roster/uploads/<key>")
@login_required
def review(code: str, key: str):
    """A file checked by a background job: its diff from the stage, and the save button."""
    unit = roster_unit(_user(), code)
    if load_upload(key, user_id=_user().id, unit=unit.code) is None:
        abort(404)
    report = staged_report(_user(), code, key)
    if report is None:
        flash(_("The checked file has expired; upload it again."), "error")
        return redirect(url_for("rosters.show", code=code), 303)
    return render_template("rosters/report.html", unit=unit, report=report, problems=[],
                           key=key, labels=column_labels(),
                           import_key=secrets.token_urlsafe(16))


@bp.get("/<code>/roster/uploads/<key>/problems.csv")
@login_required
def problems_csv(code: str, key: str):
    unit = roster_unit(_user(), code)
    stored = load_upload(key, user_id=_user().id, unit=unit.code)
    if stored is None:
        abort(404)
    data, meta = stored
    report = import_roster(_user(), code, meta["filename"], data, dry_run=True)
    body = csv_bytes([_("Line"), _("Column"), _("Reason")],
                     [(p["line"], column_labels().get(p["column"], p["column"]), p["message"])
                      for p in report.problems])
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="roster-problems.csv"'})


@bp.post("/<code>/roster/import")
@limits.upload()
@login_required
def commit(code: str):
    unit = roster_unit(_user(), code)
    stored = load_upload(request.form.get("upload", ""), user_id=_user().id, unit=unit.code)
    if stored is None:
        flash(_("The checked file has expired; upload it again."), "error")
        return redirect(url_for("rosters.show", code=code), 303)
    data, meta = stored
    if _large(data):
        job = jobs.submit("rosters.import", user=_user(), unit=unit, unit_code=unit.code,
                          upload=request.form["upload"],
                          import_key=request.form.get("import_key") or None,
                          level=_user().session_level)
        return redirect(url_for("jobs.show", job_id=job.id), 303)
    report = import_roster(_user(), code, meta["filename"], data, dry_run=False,
                           idempotency_key=request.form.get("import_key") or None)
    flash(_("Roster saved: %(added)s added, %(removed)s removed, %(changed)s changed, "
            "%(unchanged)s unchanged.", added=report.added, removed=report.removed,
            changed=report.changed, unchanged=report.unchanged), "success")
    return redirect(url_for("rosters.show", code=code), 303)
