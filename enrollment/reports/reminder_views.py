"""HTML pages: a unit's reminders (the form that sends one, and the audit log; officers and
unit admins, 404 otherwise) and the signed-in user's notifications."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from enrollment.assignments.queries import get_managed_unit, latest_courses_by_code
from enrollment.reports import notifications, reminders
from enrollment.reports.reminder_schemas import ReminderIn
from lms.api import paginate
from lms.errors import Conflict, ValidationFailed, field_errors
from lms.i18n import localized
from lms.security import acting_user as _user

bp = Blueprint("reminders", __name__, template_folder="../templates")
PER_PAGE = 50


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/units/<code>/reminders")
@login_required
def unit_reminders(code: str):
    unit = get_managed_unit(_user(), code)  # out of scope: 404
    codes = reminders.assigned_course_codes(unit)
    found = latest_courses_by_code(codes)
    courses = [{"code": c, "title": localized(found[c].title_vi, found[c].title_en)
                if c in found else c} for c in codes]
    page = paginate(reminders.unit_reminders(unit), _page(), PER_PAGE)
    return render_template("reports/reminders.html", unit=unit, courses=courses,
                           log=reminders.reminder_views(list(page["items"])),
                           meta=page["meta"])


@bp.post("/units/<code>/reminders")
@login_required
def send(code: str):
    get_managed_unit(_user(), code)  # 404 before the form is read
    try:
        data = ReminderIn().load({"course_code": request.form.get("course_code", ""),
                                  "message": request.form.get("message") or None})
        result = reminders.send_reminder(_user(), code, data["course_code"], data["message"])
    except (ValidationError, ValidationFailed, Conflict) as exc:
        flash(getattr(exc, "message", None) or _("The reminder was not sent."), "error")
        for field, messages in field_errors(exc).items():
            flash(f"{field}: {'; '.join(map(str, messages))}", "error")
        return redirect(url_for("reminders.unit_reminders", code=code), 303)
    counts = result.counts
    flash(_("Reminder sent to %(sent)d people; %(unreachable)d without an account could not "
            "be reached; %(completed)d who completed and %(exempt)d exempt were skipped.",
            sent=counts.recipients, unreachable=counts.unreachable,
            completed=counts.skipped_completed, exempt=counts.skipped_exempt), "success")
    if result.job_id:
        return redirect(url_for("jobs.show", job_id=result.job_id), 303)
    return redirect(url_for("reminders.unit_reminders", code=code), 303)


@bp.get("/notifications")
@login_required
def mine():
    page = paginate(notifications.user_notifications(_user()), _page(), PER_PAGE)
    return render_template("reports/notifications.html", items=page["items"],
                           meta=page["meta"], unread=notifications.count_unread(_user()))


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    changed = notifications.mark_read(_user())
    if changed:
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("reminders.mine"), 303)
