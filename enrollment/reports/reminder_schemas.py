"""Reminder and notification input and output schemas (marshmallow 4). Unknown fields are an
error."""

from __future__ import annotations

import marshmallow as ma

from lms.api import DB_INT, PageQuerySchema

MESSAGE_MAX = 1000
READ_IDS_MAX = 1000


class ReminderIn(ma.Schema):
    course_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    message = ma.fields.String(load_default=None, allow_none=True,
                               validate=ma.validate.Length(max=MESSAGE_MAX))


class ReminderSentOut(ma.Schema):
    id = ma.fields.Integer()
    recipients = ma.fields.Integer(metadata={"description": "people notified in the app"})
    unreachable = ma.fields.Integer(metadata={
        "description": "people on the roster without an account: not reached"})
    skipped_completed = ma.fields.Integer()
    skipped_exempt = ma.fields.Integer()
    emailed = ma.fields.Integer(metadata={
        "description": "e-mails handed to the SMTP server once the reminder is saved (0 "
                       "without mail); the audit log shows how many the server accepted"})
    job_id = ma.fields.String(allow_none=True, metadata={
        "description": "set when a large unit's notifications are written by a job"})


class ReminderOut(ma.Schema):
    id = ma.fields.Integer()
    unit_code = ma.fields.String()
    course_code = ma.fields.String()
    course_title = ma.fields.String()
    sent_by = ma.fields.String(allow_none=True)
    sent_at = ma.fields.AwareDateTime()
    recipients = ma.fields.Integer()
    emailed = ma.fields.Integer()
    message = ma.fields.String(allow_none=True)


class NotificationQuerySchema(PageQuerySchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "unread only"})


class NotificationOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "reminder | reminder_summary"})
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationReadIn(ma.Schema):
    ids = ma.fields.List(ma.fields.Integer(strict=True, validate=DB_INT), load_default=None,
                         validate=ma.validate.Length(max=READ_IDS_MAX),
                         metadata={"description": "the notifications to mark; all when absent"})


class NotificationReadOut(ma.Schema):
    updated = ma.fields.Integer()
    unread = ma.fields.Integer()
