"""HTML pages of monthly snapshots (a unit's lock form, versions and children's submissions;
one snapshot with its diff) and the downloads: a snapshot's CSV/XLSX/PDF, the live figures'
CSV/XLSX. Same services and schemas as snapshot_api.py."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from enrollment.reports import snapshot_exports as exports
from enrollment.reports import snapshots
from enrollment.reports.figures import figures_for
from enrollment.reports.snapshot_schemas import SnapshotLockIn, SubmissionQuery
from lms import limits, policy
from lms.audit.downloads import audited_get, record_download
from lms.db import utcnow
from lms.errors import Conflict, ValidationFailed, field_errors
from lms.security import acting_user as _user

bp = Blueprint("snapshots", __name__, template_folder="../templates")


def status_labels() -> dict[str, str]:
    return {"on_time": _("On time"), "late": _("Late"), "missing": _("Missing")}


def _download(data: bytes, fmt: str, filename: str, tag: str) -> Response:
    response = Response(data, mimetype=exports.CONTENT_TYPES[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = exports.CONTENT_TYPES["csv"]
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(tag)
    return response.make_conditional(request)


@bp.get("/units/<code>/reports")
@login_required
def unit_reports(code: str):
    unit = snapshots.get_viewed_unit(_user(), code)  # out of scope: 404
    today = snapshots.local_today()
    periods = snapshots.recent_periods(today)
    asked = {k: v for k, v in request.args.items() if k == "period"}
    # the submissions table shows the previous month unless another is chosen (422 if bad)
    period = SubmissionQuery().load(asked).get("period") or periods[min(1, len(periods) - 1)]
    submissions = snapshots.submissions(_user(), code, period)
    versions = snapshots.describe(snapshots.recent_unit_snapshots(unit))
    by_period: dict[str, list[dict]] = {}
    for row in versions:
        by_period.setdefault(row["period"], []).append(row)
    return render_template(
        "reports/snapshots.html", unit=unit, periods=periods, period=period,
        by_period=by_period, submissions=submissions, deadline_day=snapshots.deadline_day(period),
        may_lock=policy.can(_user(), policy.Permission.MANAGE_UNITS, unit),
        may_see_people=policy.can(_user(), policy.Permission.VIEW_PEOPLE, unit),
        status_labels=status_labels())


@bp.post("/units/<code>/reports")
@login_required
def lock(code: str):
    snapshots.get_lockable_unit(_user(), code)  # 404 before the form is read
    form = {"period": request.form.get("period", ""), "note": request.form.get("note") or None}
    try:
        data = SnapshotLockIn().load(form)
        snapshot = snapshots.lock(_user(), code, data["period"], data["note"])
    except (ValidationError, ValidationFailed, Conflict) as exc:
        flash(_("The figures were not locked."), "error")
        if isinstance(exc, Conflict) and exc.message:
            flash(exc.message, "error")
        for field, messages in field_errors(exc).items():
            flash(f"{field}: {'; '.join(map(str, messages))}", "error")
        return redirect(url_for("snapshots.unit_reports", code=code), 303)
    flash(_("The figures of %(period)s are locked (version %(version)s).",
            period=snapshot.period, version=snapshot.version), "success")
    return redirect(url_for("snapshots.show", public_id=snapshot.public_id), 303)


@bp.get("/snapshots/<public_id>")
@login_required
def show(public_id: str):
    snapshot = snapshots.get_snapshot(_user(), public_id)
    found = snapshots.detail(snapshot)
    content = snapshot.content
    rows = [(c, exports.figures_of(c["figures"])) for c in content["children"]]
    return render_template("reports/snapshot.html", s=found, content=content,
                           figures=exports.figures_of(content["figures"]), rows=rows,
                           diff=found["diff"])


def _snapshot_download(public_id: str, fmt: str) -> Response:
    snapshot = snapshots.get_snapshot(_user(), public_id)
    record_download(exports.snapshot_filename(snapshot, fmt), snapshot.unit_id)
    # Spreadsheet headers follow the reader's language; the PDF is always Vietnamese.
    tag = f"{snapshot.content_hash}-{fmt}" + ("" if fmt == "pdf" else f"-{get_locale()}")
    return _download(exports.render_snapshot(snapshot, fmt), fmt,
                     exports.snapshot_filename(snapshot, fmt), tag)


@bp.get("/snapshots/<public_id>.csv")
@limits.export()
@login_required
@audited_get
def snapshot_csv(public_id: str):
    return _snapshot_download(public_id, "csv")


@bp.get("/snapshots/<public_id>.xlsx")
@limits.export()
@login_required
@audited_get
def snapshot_xlsx(public_id: str):
    return _snapshot_download(public_id, "xlsx")


@bp.get("/snapshots/<public_id>.pdf")
@limits.export()
@login_required
@audited_get
def snapshot_pdf(public_id: str):
    return _snapshot_download(public_id, "pdf")


@bp.get("/units/<code>/figures.csv", defaults={"fmt": "csv"})
@bp.get("/units/<code>/figures.xlsx", defaults={"fmt": "xlsx"})
@limits.export()
@login_required
@audited_get
def live_figures(code: str, fmt: str):
    """The current figures (not locked): for the dashboard's download links."""
    now = utcnow().replace(microsecond=0)
    today = snapshots.local_today()
    result = figures_for(_user(), code, today)
    content = snapshots.figures_content(result)
    data = exports.live_export(content, fmt, now)
    record_download(exports.live_filename(content, today.isoformat(), fmt), result.unit)
    return _download(data, fmt, exports.live_filename(content, today.isoformat(), fmt),
                     exports.etag(data))
