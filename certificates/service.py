"""Issuing, rendering once, revoking and reissuing certificates. Flush only; the request
commits (STYLE.md rule 3)."""

from __future__ import annotations

import base64
import secrets
import unicodedata

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from certificates import render
from certificates.models import LOCAL_TZ, Certificate, CertificateState
from courses.models import Course
from enrollment import service as enrollment_service
from enrollment.models import Enrollment
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.audit.service import record
from lms.db import session, utcnow
from lms.errors import InvalidState
from lms.people.models import Role, RoleGrant, User
from lms.storage import keep_document, read_document
from lms.units.models import Unit, UnitKind

ISSUER_KINDS = (UnitKind.SCHOOL, UnitKind.AGENCY)
REASON_MAX = 500


def new_code() -> str:
    """160 bits from the operating system's CSPRNG, as 32 lower-case base32 letters: nothing
    about the learner or the course can be derived from it, and it reads aloud unambiguously."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _learner_unit(user_id: int) -> Unit | None:
    """The class or department the learner belongs to: their newest active roster entry, else
    their learner grant."""
    unit_id = session.execute(
        select(RosterEntry.unit_id).where(RosterEntry.user_id == user_id,
                                          RosterEntry.status == EntryStatus.ACTIVE)
        .order_by(RosterEntry.updated_at.desc(), RosterEntry.id.desc()).limit(1)).scalar()
    if unit_id is None:
        unit_id = session.execute(
            select(RoleGrant.unit_id).where(RoleGrant.user_id == user_id,
                                            RoleGrant.role == Role.LEARNER,
                                            RoleGrant.revoked_at.is_(None))
            .order_by(RoleGrant.granted_at.desc(), RoleGrant.id.desc()).limit(1)).scalar()
    return session.get(Unit, unit_id) if unit_id is not None else None


def issuer_of(unit: Unit | None) -> Unit | None:
    """The school or agency at or above unit (a class, a department), if any."""
    while unit is not None and unit.kind not in ISSUER_KINDS:
        unit = session.get(Unit, unit.parent_id) if unit.parent_id is not None else None
    return unit


def issuing_unit(user_id: int) -> Unit | None:
    """The school or agency above the learner's class or department."""
    return issuer_of(_learner_unit(user_id))


def _parent_name(unit: Unit | None) -> str:
    if unit is not None and unit.parent_id is not None:
        return session.get(Unit, unit.parent_id).name
    return current_app.config["ROOT_UNIT_NAME"]


def issue(enrollment: Enrollment) -> Certificate:
    """The certificate of the enrolment's completion, frozen now. The database refuses a
    second one for the same completion (unique enrolment, completion and version)."""
    if enrollment.completed_at is None:
        raise InvalidState(_("The course is not completed."))
    user = session.get(User, enrollment.user_id)
    course = session.get(Course, enrollment.course_id)
    unit = issuing_unit(user.id)
    cert = Certificate(
        code=new_code(), enrollment_id=enrollment.id, user_id=user.id,
        completed_at=enrollment.completed_at, version=1, full_name=nfc(user.full_name),
        birth_on=user.birth_on, course_code=course.code, course_version=course.version,
        course_title_vi=nfc(course.title_vi),
        course_title_en=nfc(course.title_en) if course.title_en else None,
        completed_on=enrollment.completed_at.astimezone(LOCAL_TZ).date(),
        unit_id=unit.id if unit else None, unit_path=unit.path if unit else None,
        unit_name=unit.name if unit else None, unit_parent_name=_parent_name(unit),
        issued_at=utcnow(), state=CertificateState.VALID)
    session.add(cert)
    session.flush()
    return cert


def on_course_completed(sender, enrollment: Enrollment, **_: object) -> None:
    issue(enrollment)


def pdf_bytes(cert: Certificate) -> bytes:
    """The certificate's PDF: rendered on first request and kept; every later download gets
    the same bytes. Of two concurrent first renders the first stored wins (a conditional
    UPDATE); the other's file is an unreferenced duplicate, never served."""
    if cert.pdf_sha256:
        data = read_document(cert.pdf_sha256)
        if data is None:
            raise RuntimeError(f"certificate {cert.id}: stored PDF missing or damaged")
        return data
    data, signed = render.render(cert, issuer_parent=cert.unit_parent_name)
    key = keep_document(data)
    won = session.execute(
        update(Certificate).where(Certificate.id == cert.id, Certificate.pdf_sha256.is_(None))
        .values(pdf_sha256=key, pdf_signed=signed)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(cert)
    return data if won else pdf_bytes(cert)


def revoke(cert: Certificate, reason: str, actor: User | None) -> Certificate:
    """Revoke a current certificate: its completion no longer counts in any unlocked figure
    (the learner is in progress again and can complete anew); locked snapshots keep what they
    froze. Revoking twice is refused."""
    changed = session.execute(
        update(Certificate).where(Certificate.id == cert.id,
                                  Certificate.state == CertificateState.VALID)
        .values(state=CertificateState.REVOKED, revoked_at=utcnow(),
                revoked_reason=reason.strip()[:REASON_MAX],
                revoked_by_id=actor.id if actor is not None else None)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(cert)
    if changed != 1:
        raise InvalidState(_("Only the current version of a certificate can be changed."),
                           errors={"state": [cert.state.value]})
    enrollment_service.revoke_completion(cert.enrollment_id, cert.completed_at)
    record("certificates.revoke", unit=cert.unit_id, target=cert.serial, actor=actor)
    return cert


def reissue(cert: Certificate, full_name: str | None = None) -> Certificate:
    """A corrected copy as a new version with a new code (the name as corrected on the
    learner's account, or as given); the old one is marked superseded and links to it."""
    changed = session.execute(
        update(Certificate).where(Certificate.id == cert.id,
                                  Certificate.state == CertificateState.VALID)
        .values(state=CertificateState.SUPERSEDED)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(cert)
    if changed != 1:
        raise InvalidState(_("Only the current version of a certificate can be changed."),
                           errors={"state": [cert.state.value]})
    user = session.get(User, cert.user_id)
    new = Certificate(
        code=new_code(), enrollment_id=cert.enrollment_id, user_id=cert.user_id,
        completed_at=cert.completed_at, version=cert.version + 1,
        full_name=nfc(full_name if full_name else user.full_name), birth_on=user.birth_on,
        course_code=cert.course_code, course_version=cert.course_version,
        course_title_vi=cert.course_title_vi, course_title_en=cert.course_title_en,
        completed_on=cert.completed_on, unit_id=cert.unit_id, unit_path=cert.unit_path,
        unit_name=cert.unit_name, unit_parent_name=cert.unit_parent_name,
        issued_at=utcnow(), state=CertificateState.VALID)
    session.add(new)
    session.flush()
    cert.superseded_by_id = new.id
    session.flush()
    record("certificates.reissue", unit=cert.unit_id, target=cert.serial,  # actor: signed-in
           details={"new": new.serial, "version": new.version})
    return new
