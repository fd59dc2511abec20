"""Reminders, hand-checked: who is reminded (not started, in progress, overdue) and who is not
(completed, exempt, without an account), the unit head's summary, the audit log, the 24-hour
limit, scope (404), notifications read only by their owner, and e-mail through a real SMTP
server on 127.0.0.1, sent after commit."""

from __future__ import annotations

import logging
import random
import re
from datetime import date

import pytest
from sqlalchemy import select

from courses.models import Audience
from courses.service import import_package
from enrollment import service as enrollment_service
from enrollment.assignments.service import create_assignment
from enrollment.reports import reminders
from enrollment.reports.snapshot_models import Notification, Reminder
from enrollment.rosters import service as rosters
from enrollment.rosters.importer import import_roster
from enrollment.rosters.models import ExemptReason, RosterEntry
from lms.demo.people import synthetic_personal_id
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people.models import Role
from lms.pii import hash_personal_id
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import write_package
from tests.support.factories import csrf_headers, login
from tests.support.smtp_server import start_smtp

DUE = date(2026, 5, 31)
COURSE = "TEST-ATGT"
TITLE = "Khóa học thử"


def roster_csv(people):
    lines = ["Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"]
    lines += [f"{name};{pid};05/09/2012;{klass}" for name, pid, klass in people]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


@pytest.fixture
def school(db, make, tmp_path):
    """Commune 00691, school REM-S1, class REM-S1-A with six people on the roster:
    1 not started, 2 in progress, 3 completed, 4 exempt, 5 without an account, 6 not started
    (with an address the mail server refuses). TEST-ATGT assigned to the commune's students."""
    import_package(write_package(tmp_path / "v1"))
    school = make.unit("school", "00691", code="REM-S1", name="Trường Nhắc Việc")
    klass = make.unit("class", school, code="REM-S1-A", name="Lớp A")
    rng = random.Random(11)
    ids = {n: synthetic_personal_id(rng, "008", date(2012, 9, 5), n % 2 == 0, 700 + n)
           for n in range(1, 7)}
    import_roster(None, "REM-S1", "s1.csv", roster_csv(
        [(f"Học Sinh {n}", ids[n], "REM-S1-A") for n in ids]), dry_run=False)
    officer = make.person(Role.OFFICER, find_unit_by_code("00691"), name="Cán Bộ Xã")
    create_assignment(officer, "00691", [COURSE], Audience.STUDENTS, date(2026, 5, 1), DUE)
    admin = make.person(Role.UNIT_ADMIN, school, name="Hiệu Trưởng")
    people = {}
    for n in (1, 2, 3, 4, 6):
        user = make.user(name=f"Học Sinh {n}", personal_id=ids[n])
        make.grant(user, Role.LEARNER, klass)
        rosters.link_user(user, hash_personal_id(ids[n]))
        user.email = f"refuse-hs{n}@example.vn" if n == 6 else f"hs{n}@example.vn"
        people[n] = user
    enrollment_service.enroll(people[2], COURSE)
    enrollment_service._complete(enrollment_service.enroll(people[3], COURSE))
    entry = db.execute(select(RosterEntry).where(
        RosterEntry.personal_id_hash == hash_personal_id(ids[4]))).scalar_one()
    rosters.exempt(admin, entry.id, ExemptReason.LONG_ILLNESS, None)
    db.flush()
    return {"school": school, "admin": admin, "officer": officer, "people": people}


def notifications_of(db, user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.execute(query.execution_options(populate_existing=True)).scalars().all()


def post_reminder(client, code, body):
    return client.post(f"/api/v1/units/{code}/reminders", json=body,
                       headers=csrf_headers(client))


def test_reminder_reaches_exactly_who_has_not_finished(db, client, school):
    people, admin = school["people"], school["admin"]
    login(client, admin)
    response = post_reminder(client, "REM-S1", {"course_code": COURSE,
                                                "message": "Hạn chót sắp đến!"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("recipients", "unreachable", "skipped_completed",
                                 "skipped_exempt", "emailed")} == {
        "recipients": 3, "unreachable": 1, "skipped_completed": 1, "skipped_exempt": 1,
        "emailed": 0}  # no MAIL_SERVER: nothing is e-mailed
    assert body["job_id"] is None

    for n in (1, 2, 6):  # not started, in progress, not started: exactly one each
        [note] = notifications_of(db, people[n])
        assert note.kind == "reminder" and note.read_at is None
        assert TITLE in note.title and "31/05/2026" in note.body
        assert "Hạn chót sắp đến!" in note.body
    assert notifications_of(db, people[2])[0].link == f"/learn/{COURSE}"
    assert notifications_of(db, people[1])[0].link == "/learn/assignments"
    for n in (3, 4):  # completed, exempt
        assert notifications_of(db, people[n]) == []

    [summary] = notifications_of(db, admin)  # the unit head, who is also the sender
    assert summary.kind == "reminder_summary" and summary.link == "/units/REM-S1/reminders"
    assert (summary.title, summary.body) == reminders.summary_texts(
        "Trường Nhắc Việc", TITLE, reminders.ReminderCounts(
            recipients=3, unreachable=1, skipped_completed=1, skipped_exempt=1, emailable=0))
    assert notifications_of(db, school["officer"]) == []  # the commune is not the unit

    reminder = db.get(Reminder, body["id"])
    assert (reminder.unit_id, reminder.course_code, reminder.sent_by_id) == (
        school["school"].id, COURSE, admin.id)
    assert (reminder.recipients, reminder.emailed, reminder.message) == (
        3, 0, "Hạn chót sắp đến!")

    log = client.get("/api/v1/units/REM-S1/reminders").get_json()
    assert log["meta"]["total"] == 1
    assert log["items"][0]["sent_by"] == "Hiệu Trưởng" and log["items"][0]["recipients"] == 3
    page = client.get("/units/REM-S1/reminders")
    assert page.status_code == 200 and f'id="reminder-{reminder.id}"' in page.text


def test_officer_reminds_a_commune_and_gets_the_summary(db, make, school):
    officer, admin = school["officer"], school["admin"]
    result = reminders.send_reminder(officer, "00691", COURSE)
    assert result.counts == reminders.ReminderCounts(
        recipients=3, unreachable=1, skipped_completed=1, skipped_exempt=1, emailable=3)
    [summary] = notifications_of(db, officer, "reminder_summary")
    assert summary.body == reminders.summary_texts(find_unit_by_code("00691").name, TITLE,
                                                   result.counts)[1]
    assert notifications_of(db, admin) == []  # the school admin is not the commune's head
    # A second reminder of the same unit and course within 24 hours is refused...
    with pytest.raises(Conflict):
        reminders.send_reminder(officer, "00691", COURSE)
    # ... but the school below may still send its own.
    reminders.send_reminder(admin, "REM-S1", COURSE)
    assert len(notifications_of(db, school["people"][1])) == 2


def test_second_reminder_within_a_day_is_409_and_unassigned_course_422(client, school):
    login(client, school["admin"])
    assert post_reminder(client, "REM-S1", {"course_code": COURSE}).status_code == 201
    again = post_reminder(client, "REM-S1", {"course_code": COURSE})
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    assert "24" in again.get_json()["message"]  # says when the next one may be sent
    missing = post_reminder(client, "REM-S1", {"course_code": "NOT-ASSIGNED"})
    assert missing.status_code == 422 and "course_code" in missing.get_json()["errors"]
    unknown = post_reminder(client, "REM-S1", {"course_code": COURSE, "to": "everyone"})
    assert unknown.status_code == 422


def test_out_of_scope_and_learners_get_404(db, client, make, school):
    elsewhere = make.person(Role.OFFICER, find_unit_by_code("01"))  # another province
    learner = school["people"][1]
    for user in (elsewhere, learner):
        with pytest.raises(NotFound):
            reminders.send_reminder(user, "REM-S1", COURSE)
        login(client, user)
        headers = csrf_headers(client)
        assert post_reminder(client, "REM-S1", {"course_code": COURSE}).status_code == 404
        assert client.get("/api/v1/units/REM-S1/reminders").status_code == 404
        assert client.get("/units/REM-S1/reminders").status_code == 404
        assert client.post("/units/REM-S1/reminders", data={
            "csrf_token": headers["X-CSRFToken"], "course_code": COURSE}).status_code == 404
    with pytest.raises(NotFound):  # a school admin cannot remind the whole commune
        reminders.send_reminder(school["admin"], "00691", COURSE)
    with pytest.raises(ValidationFailed):
        reminders.send_reminder(school["admin"], "REM-S1", "NOT-ASSIGNED")
    assert db.execute(select(Reminder)).scalars().all() == []


def test_page_form_sends_and_shows_the_log(client, school):
    login(client, school["admin"])
    page = client.get("/units/REM-S1/reminders")
    assert page.status_code == 200 and f'<option value="{COURSE}">' in page.text
    token = csrf_headers(client)["X-CSRFToken"]
    assert client.post("/units/REM-S1/reminders",
                       data={"course_code": COURSE}).status_code == 400  # no CSRF token
    sent = client.post("/units/REM-S1/reminders?lang=en", data={
        "csrf_token": token, "course_code": COURSE, "message": ""}, follow_redirects=True)
    assert sent.status_code == 200 and "Reminder sent to 3 people" in sent.text
    again = client.post("/units/REM-S1/reminders", data={
        "csrf_token": token, "course_code": COURSE}, follow_redirects=True)
    assert 'class="flash error"' in again.text, again.text
    assert len(re.findall(r'id="reminder-\d+"', again.text)) == 1


def test_notifications_are_read_and_marked_by_their_owner_only(db, client, school):
    people = school["people"]
    reminders.send_reminder(school["admin"], "REM-S1", COURSE)
    mine = notifications_of(db, people[1])[0]
    theirs = notifications_of(db, people[2])[0]
    login(client, people[1])
    listed = client.get("/api/v1/me/notifications").get_json()
    assert [item["id"] for item in listed["items"]] == [mine.id]
    assert listed["meta"]["total"] == 1
    headers = csrf_headers(client)
    marked = client.post("/api/v1/me/notifications/read", json={"ids": [theirs.id, mine.id]},
                         headers=headers)
    assert marked.status_code == 200 and marked.get_json() == {"updated": 1, "unread": 0}
    assert notifications_of(db, people[2])[0].read_at is None  # another's: untouched
    assert notifications_of(db, people[1])[0].read_at is not None
    assert client.post("/api/v1/me/notifications/read", json={"ids": ["x"]},
                       headers=headers).status_code == 422
    assert client.get("/api/v1/me/notifications?unread=true").get_json()["items"] == []

    login(client, people[6])
    page = client.get("/notifications")
    assert page.status_code == 200 and 'class="flag"' in page.text and TITLE in page.text
    token = csrf_headers(client)["X-CSRFToken"]
    assert client.post("/notifications/read", data={}).status_code == 400  # no CSRF token
    done = client.post("/notifications/read", data={"csrf_token": token},
                       follow_redirects=True)
    assert done.status_code == 200 and 'id="mark-all-read"' not in done.text
    assert notifications_of(db, people[6])[0].read_at is not None
    assert notifications_of(db, people[2])[0].read_at is None
    assert client.get("/api/v1/me/notifications").status_code == 200
    client.post("/auth/logout", data={"csrf_token": token})
    assert client.get("/api/v1/me/notifications").status_code == 401


def test_a_large_reminder_is_written_by_a_job(db, make, school, monkeypatch):
    """Above the threshold the request only records the reminder and queues a job; the job's
    function writes the notifications (run here in the test's transaction: jobs run after a
    real commit, which this rolled-back test never makes; tests/lms/test_jobs.py covers that)."""
    monkeypatch.setattr(reminders, "BACKGROUND_ABOVE", 2)
    result = reminders.send_reminder(school["admin"], "REM-S1", COURSE)
    assert result.job_id is not None
    assert notifications_of(db, school["people"][1]) == []
    job = db.get(reminders.jobs.Job, result.job_id)
    assert job.params == {"reminder_id": result.reminder.id}
    outcome = reminders.send_reminder_job(job, **job.params)
    assert outcome["rows"] == 3 and outcome["next"] == "/units/REM-S1/reminders"
    assert [len(notifications_of(db, school["people"][n])) for n in (1, 2, 3, 4, 6)] == [
        1, 1, 0, 0, 1]


@pytest.fixture
def smtp(app, monkeypatch):
    server = start_smtp()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    yield server
    server.stop()


def test_emails_go_through_a_real_smtp_server_after_commit(app, db, client, school, smtp,
                                                           caplog):
    login(client, school["admin"])
    caplog.set_level(logging.DEBUG)
    response = post_reminder(client, "REM-S1", {"course_code": COURSE})
    assert response.status_code == 201
    assert response.get_json()["emailed"] == 3  # queued: 1, 2 and 6 have addresses

    received = {r.envelope_to[0]: r for r in smtp.messages}
    # 6's address is refused by the server; completed (3) and exempt (4) get no e-mail
    assert set(received) == {"hs1@example.vn", "hs2@example.vn"}
    message = received["hs1@example.vn"].message
    with app.test_request_context():
        subject, _body = reminders._texts(TITLE, "Trường Nhắc Việc", DUE, DUE, None)
    assert message["To"] == "hs1@example.vn"
    assert message["Subject"] == subject and TITLE in message["Subject"]
    assert message["From"] == "Hocvuso <no-reply@localhost>"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    text = message.get_content()
    assert "Học Sinh 1" in text and TITLE in text and "31/05/2026" in text
    reminder = db.execute(select(Reminder).execution_options(populate_existing=True)
                          ).scalar_one()
    assert reminder.emailed == 2  # what the server accepted, written after sending
    # the app's own log lines (the test server's "mail.log" quotes addresses, as servers do)
    logged = "\n".join(r.getMessage() for r in caplog.records
                        if r.name.split(".")[0] in {"lms", "enrollment", "werkzeug"})
    assert "example.vn" not in logged and "Học Sinh" not in logged
    assert "2 of 3 messages" in logged


def test_a_dead_smtp_server_never_loses_the_reminder(db, client, school, app, monkeypatch):
    from tests.support.postgres import free_port

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    login(client, school["admin"])
    response = post_reminder(client, "REM-S1", {"course_code": COURSE})
    assert response.status_code == 201
    reminder = db.execute(select(Reminder).execution_options(populate_existing=True)
                          ).scalar_one()
    assert (reminder.recipients, reminder.emailed) == (3, 0)
    assert len(notifications_of(db, school["people"][1])) == 1


def test_overdue_people_are_told_the_date_has_passed(app, db):
    with app.test_request_context("/?lang=en"):
        _title, before = reminders._texts(TITLE, "Lớp A", DUE, date(2026, 5, 20), None)
        _title, after = reminders._texts(TITLE, "Lớp A", DUE, date(2026, 6, 2), "Cố lên")
    assert "31/05/2026" in before and "has passed" not in before
    assert "has passed" in after and "Cố lên" in after
