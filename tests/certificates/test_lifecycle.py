"""Revocation and reissue: a revoked completion leaves the figures of unlocked periods and
stays in locked snapshots; its old attempts never complete the course again, a new pass
issues a new certificate; a reissue makes a new version and supersedes the old one."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from certificates import service
from certificates.models import Certificate, CertificateState
from courses.models import Audience, Quiz
from enrollment import service as enrollment_service
from enrollment.assignments.queries import today_local
from enrollment.assignments.service import create_assignment
from enrollment.models import Attempt, AttemptState
from enrollment.reports import snapshot_exports, snapshots
from enrollment.reports.figures import unit_figures
from enrollment.rosters import service as rosters
from enrollment.rosters.importer import import_roster
from lms.db import utcnow
from lms.demo.people import synthetic_personal_id
from lms.errors import InvalidState
from lms.people.models import Role
from lms.pii import hash_personal_id
from lms.units.queries import find_unit_by_code


def _passed_attempt(db, enrollment, started_at):
    quiz_id = db.execute(select(Quiz.id).where(Quiz.course_id == enrollment.course_id)
                         ).scalar_one()
    number = 1 + len(db.execute(select(Attempt.id).where(
        Attempt.enrollment_id == enrollment.id)).all())
    db.add(Attempt(enrollment_id=enrollment.id, user_id=enrollment.user_id, quiz_id=quiz_id,
                   number=number, state=AttemptState.GRADED, started_at=started_at,
                   closed_at=started_at, correct=10, total=10, score_percent=100,
                   passed=True))
    db.flush()


def _read_all(enrollment):
    for slug in ("bien-bao", "mu-bao-hiem"):
        lesson = enrollment_service.lesson_in(enrollment, slug)
        progress = enrollment_service.open_lesson(enrollment, lesson)
        progress.first_opened_at = utcnow() - timedelta(minutes=10)  # read long enough
        enrollment_service.mark_read(enrollment, lesson)


@pytest.fixture
def rostered(db, make, school, monkeypatch):
    """Two learners on the class roster, the course assigned to the school, both complete."""
    _school, klass = school
    rng = random.Random(7)
    ids = [synthetic_personal_id(rng, "008", date(2012, 9, 5), n % 2 == 0, 700 + n)
           for n in range(2)]
    lines = ["Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"] + [
        f"Học Sinh {n};{pid};05/09/2012;{klass.name}" for n, pid in enumerate(ids)]
    import_roster(None, school[0].code, "r.csv",
                  ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"), dry_run=False)
    officer = make.person(Role.OFFICER, find_unit_by_code("00691"))
    create_assignment(officer, school[0].code, ["TEST-ATGT"], Audience.STUDENTS,
                      date(2026, 1, 1), date(2027, 12, 31))
    users, enrollments = [], []
    for n, pid in enumerate(ids):
        user = make.user(f"Học Sinh {n}", personal_id=pid)
        make.grant(user, Role.LEARNER, klass)
        rosters.link_user(user, hash_personal_id(pid))
        enrollment = enrollment_service.enroll(user, "TEST-ATGT")
        _read_all(enrollment)
        _passed_attempt(db, enrollment, utcnow() - timedelta(minutes=5))
        assert enrollment_service.complete_if_done(enrollment)
        users.append(user)
        enrollments.append(enrollment)
    return officer, users, enrollments


def test_revocation_leaves_live_figures_and_keeps_locked_snapshots(db, school, rostered):
    officer, _users, enrollments = rostered
    today = today_local()
    before = unit_figures(school[0], today).figures
    assert (before.expected, before.completed) == (2, 2)
    period = f"{today.year:04d}-{today.month:02d}"
    locked = snapshots.lock(officer, school[0].code, period)
    csv_before = snapshot_exports.snapshot_csv(locked)

    cert = db.execute(select(Certificate).where(
        Certificate.enrollment_id == enrollments[0].id)).scalar_one()
    service.revoke(cert, "Làm bài hộ", officer)
    assert cert.state is CertificateState.REVOKED and cert.revoked_by_id == officer.id
    after = unit_figures(school[0], today).figures
    assert (after.expected, after.completed, after.in_progress) == (2, 1, 1)
    db.refresh(locked)
    assert snapshot_exports.snapshot_csv(locked) == csv_before  # locked: unchanged
    with pytest.raises(InvalidState):
        service.revoke(cert, "again", officer)

    # the old passing attempt never completes the course again ...
    db.refresh(enrollments[0])
    assert enrollments[0].completed_at is None
    assert not enrollment_service.complete_if_done(enrollments[0])
    # ... a new pass does, with a new certificate for the new completion
    _passed_attempt(db, enrollments[0], utcnow() + timedelta(seconds=1))
    assert enrollment_service.complete_if_done(enrollments[0])
    certs = db.execute(select(Certificate).where(
        Certificate.enrollment_id == enrollments[0].id).order_by(Certificate.id)).scalars().all()
    assert [c.state for c in certs] == [CertificateState.REVOKED, CertificateState.VALID]
    assert certs[1].code != certs[0].code and certs[1].completed_at > certs[0].completed_at
    assert unit_figures(school[0], today).figures.completed == 2


def test_reissue_after_a_name_correction(db, client, complete):
    user, _e, cert = complete("Nguyen Thi Ngoc Anh")
    old_pdf = service.pdf_bytes(cert)
    user.full_name = "Nguyễn Thị Ngọc Ánh"  # corrected at the next VNeID sign-in
    new = service.reissue(cert)
    assert (new.version, new.full_name, new.state) == (2, "Nguyễn Thị Ngọc Ánh",
                                                       CertificateState.VALID)
    assert cert.state is CertificateState.SUPERSEDED and cert.superseded_by_id == new.id
    assert (new.serial, new.code) != (cert.serial, cert.code)
    assert new.completed_on == cert.completed_on and new.course_code == cert.course_code
    assert service.pdf_bytes(cert) == old_pdf  # the old document stays what it was
    from tests.certificates.test_pdf import text_of

    assert "Nguyễn Thị Ngọc Ánh" in text_of(service.pdf_bytes(new))
    with pytest.raises(InvalidState):
        service.reissue(cert)
    with pytest.raises(InvalidState):
        service.revoke(cert, "superseded already", None)


def test_revoke_and_reissue_through_the_api_and_pages(db, client, complete, make, school):
    from tests.support.factories import csrf_headers, login

    learner, _e, cert = complete()
    admin = make.person(Role.UNIT_ADMIN, school[0])
    login(client, learner)
    headers = csrf_headers(client)
    # a learner cannot revoke their own certificate
    assert client.post(f"/api/v1/certificates/{cert.serial}/revoke", headers=headers,
                       json={"reason": "tự huỷ"}).status_code == 404
    login(client, admin)
    headers = csrf_headers(client)
    bad = client.post(f"/api/v1/certificates/{cert.serial}/revoke", headers=headers,
                      json={"reason": "  "})
    assert bad.status_code == 422 and "reason" in bad.get_json()["errors"]
    renamed = client.post(f"/api/v1/certificates/{cert.serial}/reissue", headers=headers,
                          json={"full_name": "Nguyễn Thị Ngọc Ánh Mới"})
    assert renamed.status_code == 201 and renamed.get_json()["version"] == 2
    new_serial = renamed.get_json()["serial"]
    conflict = client.post(f"/api/v1/certificates/{cert.serial}/revoke", headers=headers,
                           json={"reason": "old version"})
    assert conflict.status_code == 409
    page = client.post(f"/certificates/{new_serial}/revoke",
                       data={"csrf_token": headers["X-CSRFToken"], "reason": "Gian lận",
                             "back": "unit", "unit": school[0].code})
    assert page.status_code == 303 and page.location.endswith(
        f"/units/{school[0].code}/certificates")
    assert client.get(f"/api/v1/certificates/{new_serial}").get_json()["state"] == "revoked"
