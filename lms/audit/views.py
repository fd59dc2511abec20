"""HTML page and CSV export of a unit subtree's audit log: `/units/<code>/audit` (filters:
action, local dates; paginated; times in Asia/Ho_Chi_Minh) and `/units/<code>/audit.csv`.
Officers and unit admins in scope, the system admin everywhere; 404 otherwise."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from lms.api import paginate
from lms.audit import queries
from lms.audit.downloads import audited_get, record_download
from lms.audit.schemas import AuditQuery
from lms.db import session
from lms.errors import ValidationFailed
from lms.exports import csv_bytes
from lms.security import acting_user as _user

bp = Blueprint("audit", __name__, template_folder="templates")
PAGE_SIZE = 100
CSV_MAX = 100_000  # rows; beyond it the reader narrows the dates
ACTIONS = ("auth.sign_in", "roles.grant", "roles.revoke", "rosters.import", "rosters.exempt",
           "rosters.unexempt", "rosters.resolve_conflict", "assignments.create",
           "assignments.withdraw", "snapshots.lock", "exports.download",
           "certificates.revoke", "certificates.reissue")


def action_labels() -> dict[str, str]:
    return {"auth.sign_in": _("Sign-in"), "roles.grant": _("Role granted"),
            "roles.revoke": _("Role removed"), "rosters.import": _("Roster imported"),
            "rosters.exempt": _("Exemption"), "rosters.unexempt": _("Exemption ended"),
            "rosters.resolve_conflict": _("Account link resolved"),
            "assignments.create": _("Courses assigned"),
            "assignments.withdraw": _("Assignment withdrawn"),
            "snapshots.lock": _("Month locked"), "exports.download": _("Export downloaded"),
            "certificates.revoke": _("Certificate revoked"),
            "certificates.reissue": _("Certificate reissued")}


def _filter(args: dict[str, str]) -> queries.AuditFilter:
    try:
        data = AuditQuery().load(args)
    except ValidationError as exc:
        raise ValidationFailed(errors=exc.messages) from exc
    return queries.AuditFilter(data["action"], data["since"], data["until"])


@bp.get("/units/<code>/audit")
@login_required
def unit_audit(code: str):
    unit = queries.get_audited_unit(_user(), code)  # out of scope: 404
    args = {k: v for k, v in request.args.items() if v != ""}  # an empty form field: no filter
    page_number = args.pop("page", "1")
    wanted = _filter(args)
    page = max(1, int(page_number)) if page_number.isdigit() else 1
    listing = paginate(queries.events(_user(), unit, wanted), page, PAGE_SIZE)
    return render_template("audit/events.html", unit=unit, meta=listing["meta"],
                           events=queries.event_views(list(listing["items"])), wanted=wanted,
                           args=args, actions=ACTIONS, labels=action_labels())


@bp.get("/units/<code>/audit.csv")
@login_required
@audited_get  # the export itself is audited
def unit_audit_csv(code: str):
    unit = queries.get_audited_unit(_user(), code)
    wanted = _filter(request.args.to_dict())
    query = queries.events(_user(), unit, wanted)
    items = list(session.execute(query.limit(CSV_MAX + 1)).scalars())
    if len(items) > CSV_MAX:
        raise ValidationFailed(_("Too many events for one file: choose a shorter period."))
    labels = action_labels()
    header = [_("Time (Asia/Ho_Chi_Minh)"), _("Action"), _("Actor"), _("Unit code"),
              _("Unit"), _("Target"), _("Details"), _("Request ID"), _("Network")]
    rows = [(format_datetime(e["at"], "yyyy-MM-dd HH:mm:ss"), labels.get(e["action"],
             e["action"]), e["actor_name"] or _("System"), e["unit_code"] or "",
             e["unit_name"] or "", e["target"] or "", _details(e["details"]),
             e["request_id"] or "", e["ip"] or "") for e in queries.event_views(items)]
    record_download(f"{unit.code}-audit.csv", unit, rows=len(rows), action=wanted.action)
    response = Response(csv_bytes(header, rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{unit.code}-audit.csv"'
    return response


def _details(details: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(details.items()))
