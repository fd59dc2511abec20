"""The development provider's register of citizens and its single-use authorization codes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date, timedelta

from sqlalchemy import select

from lms.auth.models import DevAuthorizationCode, DevCitizen
from lms.db import session, utcnow

CODE_LIFETIME = timedelta(minutes=2)


def register_citizen(subject: str, full_name: str, birth_on: date, personal_id: str,
                     level: int = 2, description: str = "") -> DevCitizen:
    citizen = session.get(DevCitizen, subject)
    if citizen is None:
        citizen = DevCitizen(subject=subject)
        session.add(citizen)
    citizen.full_name, citizen.birth_on, citizen.personal_id = full_name, birth_on, personal_id
    citizen.level, citizen.description = level, description
    return citizen


def list_citizens(limit: int = 500) -> list[DevCitizen]:
    return list(session.execute(select(DevCitizen).order_by(
        DevCitizen.description.desc(), DevCitizen.subject).limit(limit)).scalars())


def get_citizen(subject: str) -> DevCitizen | None:
    return session.get(DevCitizen, subject)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue_code(*, subject: str, client_id: str, redirect_uri: str, code_challenge: str,
               nonce: str | None, level: int) -> str:
    code = secrets.token_urlsafe(32)
    session.add(DevAuthorizationCode(
        code_hash=_digest(code), subject=subject, client_id=client_id, redirect_uri=redirect_uri,
        code_challenge=code_challenge, nonce=nonce, level=level,
        expires_at=utcnow() + CODE_LIFETIME))
    session.flush()
    return code


def redeem_code(code: str, *, client_id: str, redirect_uri: str,
                code_verifier: str) -> DevAuthorizationCode | None:
    """The code's grant if everything matches (RFC 6749 4.1.3, RFC 7636 4.6); used up either
    way, so a replayed code never works twice."""
    row = session.execute(select(DevAuthorizationCode).where(
        DevAuthorizationCode.code_hash == _digest(code)).with_for_update()).scalar_one_or_none()
    if row is None or row.used_at is not None:
        return None
    row.used_at = utcnow()
    session.flush()
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
    if (row.expires_at <= utcnow() or row.client_id != client_id
            or row.redirect_uri != redirect_uri
            or not secrets.compare_digest(challenge, row.code_challenge)):
        return None
    return row
