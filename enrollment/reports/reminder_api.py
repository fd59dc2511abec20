"""/api/v1 reminders (officers and unit admins: send, audit log) and the signed-in user's own
notifications. Same services and queries as reminder_views.py."""

from __future__ import annotations

from flask import request
from flask_login import login_required

from enrollment.assignments.queries import get_managed_unit
from enrollment.reports import notifications, reminders
from enrollment.reports.reminder_schemas import (
    NotificationOut,
    NotificationQuerySchema,
    NotificationReadIn,
    NotificationReadOut,
    ReminderIn,
    ReminderOut,
    ReminderSentOut,
)
from lms.api import Blueprint, PageQuerySchema, list_schema, paginate
from lms.security import acting_user as _user

blp = Blueprint("reminders_api", __name__, url_prefix="/api/v1",
                description="Reminders to people who have not finished, and notifications")


def sent_view(result: reminders.ReminderResult) -> dict:
    counts = result.counts
    return {"id": result.reminder.id, "recipients": counts.recipients,
            "unreachable": counts.unreachable, "skipped_completed": counts.skipped_completed,
            "skipped_exempt": counts.skipped_exempt, "emailed": result.emails_queued,
            "job_id": result.job_id}


@blp.post("/units/<code>/reminders")
@login_required
@blp.doc(requestBody={"required": True,
                      "content": {"application/json": {"schema": ReminderIn}}})
@blp.response(201, ReminderSentOut)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def send(code):
    """Remind everyone under the unit who has not finished the course (404 out of scope,
    422 for a course not assigned there, 409 within 24 hours of the last one)."""
    get_managed_unit(_user(), code)  # scope first: an unmanaged unit is 404 whatever the body
    data = ReminderIn().load(request.get_json(silent=True) or {})
    return sent_view(reminders.send_reminder(_user(), code, data["course_code"],
                                             data["message"]))


@blp.get("/units/<code>/reminders")
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, list_schema(ReminderOut))
def audit_log(args, code):
    """Reminders sent to the unit and the units below it, newest first (404 out of scope)."""
    unit = get_managed_unit(_user(), code)
    page = paginate(reminders.unit_reminders(unit), args["page"], args["per_page"])
    return {**page, "items": reminders.reminder_views(list(page["items"]))}


@blp.get("/me/notifications")
@login_required
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, list_schema(NotificationOut))
def my_notifications(args):
    """The signed-in user's notifications, newest first."""
    return paginate(notifications.user_notifications(_user(), unread_only=args["unread"]),
                    args["page"], args["per_page"])


@blp.post("/me/notifications/read")
@login_required
@blp.arguments(NotificationReadIn)
@blp.response(200, NotificationReadOut)
def mark_read(data):
    """Mark all, or the given ids, read; ids that are not the user's own are ignored."""
    updated = notifications.mark_read(_user(), data["ids"])
    return {"updated": updated, "unread": notifications.count_unread(_user())}
