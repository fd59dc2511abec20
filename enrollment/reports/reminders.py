"""Reminders: an officer or unit admin reminds everyone under a unit who has not finished an
assigned course, in the app and (when SMTP is configured) by e-mail after commit. The Reminder
row is the audit log; one per unit and course a day (anti-spam). Large units go to a job."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app, g, has_request_context, url_for
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, distinct, func, or_, select, text, update

from enrollment.assignments.queries import get_managed_unit, latest_courses_by_code, today_local
from enrollment.reports.counters import coverage, leaf, newest_enrolments
from enrollment.reports.snapshot_models import Notification, Reminder
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms import jobs, mail
from lms.bulk import insert_rows
from lms.db import after_commit, get_db, session, utcnow
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.i18n import DEFAULT_LOCALE, localized
from lms.people.models import Role, RoleGrant, User
from lms.units.models import Unit, subtree_bounds

log = logging.getLogger(__name__)
JOB_KIND = "reports.send_reminder"
BACKGROUND_ABOVE = 5_000  # recipients; a province may hold 100,000
# E-mails go out after commit in the request itself up to this many; more would keep the
# request (and a gunicorn worker) busy for minutes, so the job sends them instead.
INLINE_MAILS_MAX = 200
QUIET_PERIOD = timedelta(hours=24)  # one reminder per unit and course in this window
LOCK_NAMESPACE = 7342  # pg_advisory_xact_lock(namespace, unit id); counters use 7341
TITLE_MAX = 200


@dataclass(frozen=True)
class ReminderCounts:
    recipients: int  # people with an account who have not finished
    unreachable: int  # active roster people without an account
    skipped_completed: int
    skipped_exempt: int
    emailable: int  # recipients with an e-mail address


@dataclass(frozen=True)
class ReminderResult:
    reminder: Reminder
    counts: ReminderCounts
    emails_queued: int  # handed to the SMTP server after commit (0 without MAIL_SERVER)
    job_id: str | None


@contextlib.contextmanager
def _vietnamese() -> Iterator[None]:
    """Stored notifications and e-mails are read by many people whose language we do not
    know: they are written in the platform's language."""
    g.setdefault("lms_reminder_locale", DEFAULT_LOCALE)  # force_locale needs a non-empty g
    with force_locale(DEFAULT_LOCALE):
        yield


def _cover(unit: Unit, course_code: str | None = None):
    """Leaf units of the unit's subtree with an active assignment of the course that fits
    them (from the unit itself, above or below it), and their earliest due date."""
    low, high = subtree_bounds(unit.path)
    return coverage(and_(leaf.path >= low, leaf.path < high),
                    [course_code] if course_code is not None else None)


def assigned_course_codes(unit: Unit) -> list[str]:
    """Course codes assigned to some part of the unit's subtree (what may be reminded of)."""
    cover = _cover(unit).subquery("cover")
    return list(session.execute(select(cover.c.course_code).distinct()
                                .order_by(cover.c.course_code)).scalars())


def _entries(unit: Unit, course_code: str) -> tuple[Any, Any]:
    """(cover, newest) subqueries: the covered leaves, and each person's newest enrolment in
    the course (the newest-enrolment rule of counters.live: an older completion is history)."""
    cover = _cover(unit, course_code).subquery("cover")
    people = (select(RosterEntry.user_id).join(cover, RosterEntry.unit_id == cover.c.unit_id)
              .where(RosterEntry.user_id.is_not(None)))
    return cover, newest_enrolments(people, [course_code])


def _joined(query: Select, cover: Any, newest: Any) -> Select:
    return (query.select_from(cover)
            .join(RosterEntry, and_(RosterEntry.unit_id == cover.c.unit_id,
                                    RosterEntry.status != EntryStatus.LEFT))
            .outerjoin(newest, and_(newest.c.user_id == RosterEntry.user_id,
                                    newest.c.rank == 1))
            .outerjoin(User, User.id == RosterEntry.user_id))


def _to_remind(newest: Any):
    return and_(RosterEntry.status == EntryStatus.ACTIVE, RosterEntry.user_id.is_not(None),
                newest.c.completed_at.is_(None))


def count_recipients(unit: Unit, course_code: str) -> ReminderCounts:
    """Who a reminder would reach and who it skips, in one aggregate query."""
    cover, newest = _entries(unit, course_code)
    active = RosterEntry.status == EntryStatus.ACTIVE
    remind = _to_remind(newest)

    def entries(condition: Any) -> Any:
        return func.count(case((condition, 1)))

    row = session.execute(_joined(select(
        func.count(distinct(case((remind, RosterEntry.user_id)))),
        entries(and_(active, RosterEntry.user_id.is_(None))),
        entries(and_(active, RosterEntry.user_id.is_not(None),
                     newest.c.completed_at.is_not(None))),
        entries(RosterEntry.status == EntryStatus.EXEMPT),
        func.count(distinct(case((and_(remind, User.email.is_not(None)),
                                  RosterEntry.user_id))))), cover, newest)).one()
    return ReminderCounts(*(int(value or 0) for value in row))


def recipient_rows(unit: Unit, course_code: str) -> list[Any]:
    """(user_id, email, full_name, due_on, started) of each person to remind, once each."""
    cover, newest = _entries(unit, course_code)
    return list(session.execute(_joined(
        select(RosterEntry.user_id, User.email, User.full_name,
               func.min(cover.c.due_on).label("due_on"),
               func.max(case((newest.c.user_id.is_not(None), 1), else_=0)).label("started")),
        cover, newest).where(_to_remind(newest))
        .group_by(RosterEntry.user_id, User.email, User.full_name)
        .order_by(RosterEntry.user_id)))


def unit_heads(unit: Unit) -> list[int]:
    """Users holding a current unit-admin or officer grant on the unit itself."""
    now = utcnow()
    return list(session.execute(select(RoleGrant.user_id).where(
        RoleGrant.unit_id == unit.id, RoleGrant.role.in_([Role.UNIT_ADMIN, Role.OFFICER]),
        RoleGrant.revoked_at.is_(None),
        or_(RoleGrant.expires_at.is_(None), RoleGrant.expires_at > now))
        .order_by(RoleGrant.user_id)).scalars())


def _lock(unit: Unit) -> None:
    """Serialise reminders of one unit (the 24-hour check, then the insert). SQLite has one
    writer at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :id)"),
                        {"ns": LOCK_NAMESPACE, "id": unit.id})


def _check_quiet_period(unit: Unit, course_code: str) -> None:
    last = session.execute(select(func.max(Reminder.sent_at)).where(
        Reminder.unit_id == unit.id, Reminder.course_code == course_code)).scalar_one()
    if last is not None and last > utcnow() - QUIET_PERIOD:
        raise Conflict(_("A reminder about this course was already sent to this unit in the "
                         "last 24 hours. The next one can be sent after %(when)s.",
                         when=format_datetime(last + QUIET_PERIOD, "short")))


def _path(endpoint: str, **values: Any) -> str:
    """A path inside the app, also outside a request (a job has no request to build from)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def _links(course_code: str) -> dict[str, str]:
    """Where a reminded learner lands: the course page once started; the assigned-courses
    page otherwise (opening it enrols them; the course page needs an enrolment)."""
    return {"started": _path("learn.course", code=course_code),
            "not_started": _path("assignments.mine")}


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _texts(title: str, unit_name: str, due_on: date, today: date,
           message: str | None) -> tuple[str, str]:
    """(title, body) of a learner's reminder, in the current locale."""
    subject = _("Reminder: complete the course “%(course)s”", course=title)
    if due_on < today:
        body = _("The due date of the course “%(course)s” (%(due)s) has passed and you have "
                 "not completed it yet. Please complete it as soon as possible.",
                 course=title, due=_dmy(due_on))
    else:
        body = _("Please complete the course “%(course)s” by %(due)s.", course=title,
                 due=_dmy(due_on))
    if message:
        body += "\n\n" + _("Message from %(unit)s: %(message)s", unit=unit_name,
                           message=message)
    return subject[:TITLE_MAX], body


def _mail_body(name: str, body: str) -> str:
    return "\n\n".join([
        _("Hello %(name)s,", name=name), body,
        _("Sign in to the Digital Education for All platform and open “Assigned courses” to "
          "continue."),
        _("This message was sent automatically; please do not reply.")]) + "\n"


def deliver(reminder: Reminder, unit: Unit, course_title: str) -> int:
    """Insert one notification per person to remind and queue their e-mails after commit.
    Returns how many were notified. Raises nothing of its own."""
    rows = recipient_rows(unit, reminder.course_code)
    today, now, links = today_local(), utcnow(), _links(reminder.course_code)
    notifications, mails = [], []
    with _vietnamese():
        for user_id, email, full_name, due_on, started in rows:
            title, body = _texts(course_title, unit.name, due_on, today, reminder.message)
            notifications.append({
                "user_id": user_id, "reminder_id": reminder.id, "kind": "reminder",
                "title": title, "body": body, "created_at": now,
                "link": links["started" if started else "not_started"]})
            if email:
                mails.append(mail.OutgoingMail(email, title, _mail_body(full_name, body)))
    insert_rows(Notification.__table__, notifications)
    if mails and mail.is_configured():
        _send_after_commit(reminder.id, mails)
    return len(notifications)


def _send_after_commit(reminder_id: int, mails: list[mail.OutgoingMail]) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send() -> None:
        sent = mail.send_mails(mails, app.config)
        # `emailed` counts what the server accepted, so it is written after sending, in its
        # own small transaction: the reminder is committed whatever happens to the mail.
        with get_db(app).session_factory() as own:
            own.execute(update(Reminder).where(Reminder.id == reminder_id)
                        .values(emailed=sent))
            own.commit()

    after_commit(send)


def summary_texts(unit_name: str, course_title: str,
                  counts: ReminderCounts) -> tuple[str, str]:
    """(title, body) of the unit head's summary, in the platform's language."""
    with _vietnamese():
        title = _("Reminder sent: %(course)s", course=course_title)[:TITLE_MAX]
        body = _("%(unit)s: %(sent)d people reminded; %(unreachable)d without an account "
                 "could not be reached; %(completed)d who completed and %(exempt)d exempt "
                 "were skipped.", unit=unit_name, sent=counts.recipients,
                 unreachable=counts.unreachable, completed=counts.skipped_completed,
                 exempt=counts.skipped_exempt)
    return title, body


def _summary(reminder: Reminder, unit: Unit, course_title: str, counts: ReminderCounts,
             heads: list[int]) -> None:
    title, body = summary_texts(unit.name, course_title, counts)
    link = _path("reminders.unit_reminders", code=unit.code)
    now = utcnow()
    insert_rows(Notification.__table__, [
        {"user_id": user_id, "reminder_id": reminder.id, "kind": "reminder_summary",
         "title": title, "body": body, "link": link, "created_at": now}
        for user_id in heads])


def _course_title(code: str) -> str:
    course = latest_courses_by_code([code]).get(code)
    return course.title_vi if course else code


def send_reminder(actor: User, unit_code: str, course_code: str,
                  message: str | None = None) -> ReminderResult:
    """Remind everyone under the unit who has not finished the course. Raises NotFound
    (unit invisible or not managed by the actor), ValidationFailed (course_code not assigned
    in the unit's subtree), Conflict (a reminder of the same course within 24 hours)."""
    unit = get_managed_unit(actor, unit_code)
    message = (message or "").strip() or None
    if not session.execute(_cover(unit, course_code).limit(1)).first():
        raise ValidationFailed(errors={"course_code": [
            _("This course is not assigned to this unit or any unit below it.")]})
    _lock(unit)
    _check_quiet_period(unit, course_code)
    counts = count_recipients(unit, course_code)
    reminder = Reminder(unit_id=unit.id, course_code=course_code, sent_by_id=actor.id,
                        sent_at=utcnow(), recipients=counts.recipients, emailed=0,
                        message=message)
    session.add(reminder)
    session.flush()
    title = _course_title(course_code)
    heads = sorted({*unit_heads(unit), actor.id})
    _summary(reminder, unit, title, counts, heads)
    mailing = mail.is_configured()
    emails = counts.emailable if mailing else 0
    job_id = None
    if counts.recipients > BACKGROUND_ABOVE or emails > INLINE_MAILS_MAX:
        job_id = jobs.submit(JOB_KIND, user=actor, unit=unit, reminder_id=reminder.id).id
    else:
        deliver(reminder, unit, title)
    session.flush()
    log.info("reminder %s: unit %s, course %s, %d recipients%s", reminder.id, unit.code,
             course_code, counts.recipients, " (job)" if job_id else "")
    return ReminderResult(reminder=reminder, counts=counts, emails_queued=emails,
                          job_id=job_id)


@jobs.task(JOB_KIND, label=_l("Sending reminders"))
def send_reminder_job(job: jobs.Job, *, reminder_id: int) -> dict[str, Any]:
    """The notifications (and e-mails) of a large reminder, in the job's own transaction."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None:
        raise NotFound()
    unit = session.get(Unit, reminder.unit_id)
    notified = deliver(reminder, unit, _course_title(reminder.course_code))
    reminder.recipients = notified  # who was notified, now that it is done
    session.flush()
    return {"rows": notified, "next": _path("reminders.unit_reminders", code=unit.code)}


def unit_reminders(unit: Unit) -> Select[tuple[Reminder]]:
    """The audit log of reminders sent to the unit and the units below it, newest first; the
    caller has checked the unit is in scope."""
    low, high = subtree_bounds(unit.path)
    inside = select(Unit.id).where(Unit.path >= low, Unit.path < high)
    return (select(Reminder).where(Reminder.unit_id.in_(inside))
            .order_by(Reminder.sent_at.desc(), Reminder.id.desc()))


def reminder_views(rows: list[Reminder]) -> list[dict[str, Any]]:
    """Plain dicts for ReminderOut."""
    unit_ids = {r.unit_id for r in rows}
    user_ids = {r.sent_by_id for r in rows if r.sent_by_id}
    units = dict(session.execute(select(Unit.id, Unit.code).where(
        Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    names = dict(session.execute(select(User.id, User.full_name).where(
        User.id.in_(user_ids))).all()) if user_ids else {}
    courses = latest_courses_by_code(sorted({r.course_code for r in rows}))
    titles = {code: localized(c.title_vi, c.title_en) for code, c in courses.items()}
    return [{"id": r.id, "unit_code": units.get(r.unit_id), "course_code": r.course_code,
             "course_title": titles.get(r.course_code, r.course_code),
             "sent_by": names.get(r.sent_by_id), "sent_at": r.sent_at,
             "recipients": r.recipients, "emailed": r.emailed, "message": r.message}
            for r in rows]
