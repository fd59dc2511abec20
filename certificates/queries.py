"""Reading certificates. A certificate's PDF and details are for its learner and for admins
whose scope covers its issuing unit (in SQL, by lms.policy); everyone else gets 404, whether
they asked by serial or by code. Only /verify is public, and it discloses the minimum."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import aliased

from certificates.models import LOCAL_TZ, Certificate, CertificateState, parse_serial
from certificates.offline import name_hash
from lms import policy
from lms.db import session
from lms.errors import NotFound
from lms.people.models import User
from lms.units.models import subtree_bounds

CODE_PATTERN = re.compile(r"^[a-z2-7]{32}$")
# What an unknown or malformed code is looked up as: well formed, never issued (new_code()
# only makes lower-case base32, and this one is all "a"), so the same query runs either way.
_NEVER_A_CODE = "a" * 32


def normalise_code(raw: str) -> str | None:
    code = raw.strip().lower().replace("-", "").replace(" ", "")
    return code if CODE_PATTERN.fullmatch(code) else None


def _managed(actor: User | None) -> ColumnElement[bool]:
    return policy.unit_filter(actor, policy.Permission.MANAGE_CERTIFICATES,
                              Certificate.unit_path)


def readable(actor: User | None) -> ColumnElement[bool]:
    """Certificates the actor may open: their own, and those their admin scope covers."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return false()
    return or_(Certificate.user_id == actor.id, _managed(actor))


def _get(ref: str, allowed: ColumnElement[bool]) -> Certificate:
    """The certificate by serial (BDHVS-2026-0001234) or code where `allowed` holds, in one
    query; NotFound otherwise (malformed, unknown, or not allowed: the same answer)."""
    serial = parse_serial(ref)
    if serial is not None:
        condition = Certificate.id == serial[1]  # the year is checked after loading
    else:
        code = normalise_code(ref)
        if code is None:
            raise NotFound()
        condition = Certificate.code == code
    cert = session.execute(select(Certificate).where(condition, allowed)).scalar()
    if cert is None or (serial is not None and cert.serial != ref.strip().upper()):
        raise NotFound()
    return cert


def get_readable(actor: User | None, ref: str) -> Certificate:
    """The certificate by serial or code, if the actor may read it."""
    return _get(ref, readable(actor))


def get_managed(actor: User | None, ref: str) -> Certificate:
    """For revoking and reissuing: only within an admin scope (a learner's own is 404)."""
    return _get(ref, _managed(actor))


def own(user: User) -> list[Certificate]:
    return list(session.execute(
        select(Certificate).where(Certificate.user_id == user.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())).scalars())


def in_subtree(actor: User | None, path: str) -> Select[tuple[Certificate]]:
    """Certificates issued by units in the subtree at path, within the actor's scope."""
    low, high = subtree_bounds(path)
    return (select(Certificate)
            .where(Certificate.unit_path >= low, Certificate.unit_path < high, _managed(actor))
            .order_by(Certificate.unit_path, Certificate.full_name, Certificate.id))


@dataclass(frozen=True)
class PublicView:
    """What /verify discloses: nothing more (never the ID or the birth date)."""

    status: str  # valid | revoked | superseded | not_found
    serial: str | None = None
    full_name: str | None = None
    course_code: str | None = None
    course_version: int | None = None
    course_title: str | None = None
    completed_on: date | None = None
    issued_on: date | None = None
    issuer: str | None = None
    version: int | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    superseded_by: str | None = None  # the newer version's code


def public_lookup(raw_code: str, locale: str = "vi") -> PublicView:
    """One indexed query whatever the code (known, unknown or malformed), so the answer takes
    the same time; the newer version's code comes from the same query."""
    code = normalise_code(raw_code) or _NEVER_A_CODE
    newer = aliased(Certificate)
    row = session.execute(
        select(Certificate, newer.code)
        .outerjoin(newer, and_(newer.id == Certificate.superseded_by_id))
        .where(Certificate.code == code)).first()
    if row is None:
        return PublicView("not_found")
    cert, newer_code = row
    title = cert.course_title_en if locale == "en" and cert.course_title_en \
        else cert.course_title_vi
    return PublicView(
        status=cert.state.value, serial=cert.serial, full_name=cert.full_name,
        course_code=cert.course_code, course_version=cert.course_version, course_title=title,
        completed_on=cert.completed_on, issued_on=cert.issued_at.astimezone(LOCAL_TZ).date(),
        issuer=cert.unit_name, version=cert.version,
        revoked_at=cert.revoked_at if cert.state is CertificateState.REVOKED else None,
        revoked_reason=cert.revoked_reason if cert.state is CertificateState.REVOKED else None,
        superseded_by=newer_code if cert.state is CertificateState.SUPERSEDED else None)


def name_confirmed(view: PublicView, name: str | None) -> bool | None:
    """Whether name (as printed on a paper copy) is the certificate's; None when no name was
    given or there is no certificate to compare with."""
    if name is None or view.full_name is None:
        return None
    return name_hash(name) == name_hash(view.full_name)
