"""Sign-in writes: find or create the user for a verified identity (once, even under
concurrent first logins), open and close server-side sessions. Flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select

from lms.audit.service import home_unit, record
from lms.auth import local
from lms.auth.claims import Identity
from lms.auth.levels import min_levels
from lms.auth.models import UserSession
from lms.db import UtcDateTime, create_once, session, utcnow
from lms.people import queries as people_queries
from lms.people.models import User
from lms.pii import hash_personal_id, mask_personal_id

SESSION_LIFETIME = timedelta(hours=12)


def required_level(user: User) -> int:
    """The level a session of this user needs so that all of their roles count."""
    levels = min_levels()
    return max((levels[g.role.value] for g in people_queries.current_grants(user)), default=1)


def sign_in(identity: Identity) -> User:
    """The user for this (issuer, subject), created on first sign-in. Roles are never taken
    from the token. Returns the user, whose name is refreshed from the token."""
    user = _find(identity)
    if user is None and identity.personal_id:
        user = _school_issued(identity)
    if user is None:  # two first logins at once: one insert wins, both get that user
        user = create_once(lambda: _find(identity), lambda: User(
            issuer=identity.issuer, subject=identity.subject, full_name=identity.full_name,
            birth_on=identity.birth_on))
    user.full_name = identity.full_name
    if identity.email:
        user.email = identity.email
    if identity.birth_on:
        user.birth_on = identity.birth_on
    if identity.personal_id and user.personal_id_hash is None:
        digest = hash_personal_id(identity.personal_id)
        holder = people_queries.find_user_by_personal_id_hash(digest)
        if holder is None or holder.id == user.id:
            user.personal_id_hash = digest
            user.personal_id_masked = mask_personal_id(identity.personal_id)
    session.flush()
    return user


def _school_issued(identity: Identity) -> User | None:
    """A school-issued account with this person's ID, taken over by their VNeID sign-in."""
    holder = people_queries.find_user_by_personal_id_hash(
        hash_personal_id(identity.personal_id or ""))
    if holder is None or holder.issuer != local.LOCAL_ISSUER:
        return None
    local.take_over(holder, identity.issuer, identity.subject)
    return holder


def _find(identity: Identity) -> User | None:
    return session.execute(select(User).where(User.issuer == identity.issuer,
                                              User.subject == identity.subject)
                           ).scalar_one_or_none()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, level: int) -> str:
    """A new server-side session; returns the token for the cookie (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_digest(token), user_id=user.id, level=level,
                            expires_at=utcnow() + SESSION_LIFETIME))
    session.flush()
    record("auth.sign_in", unit=home_unit(user), actor=user, details={"level": level, "method": (
        "school_account" if user.issuer == local.LOCAL_ISSUER else "oidc")})
    return token


def find_session(token: str) -> UserSession | None:
    now = utcnow()
    return session.execute(select(UserSession).where(
        UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None),
        UserSession.expires_at > now)).scalar_one_or_none()


# Built once: every signed-in request runs it, and building a select costs about as much as
# SQLite takes to answer it (bench/pages.py); SQLAlchemy memoises the prebuilt one's cache key.
_SIGNED_IN_USER = (
    select(User, UserSession.level).join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"), UserSession.revoked_at.is_(None),
           UserSession.expires_at > bindparam("now", type_=UtcDateTime),
           User.is_active.is_(True)))


def find_signed_in_user(token: str) -> tuple[User, int] | None:
    """The active user of an open session and the session's level, in one query."""
    row = session.execute(_SIGNED_IN_USER,
                          {"token_hash": _digest(token), "now": utcnow()}).first()
    return (row[0], row[1]) if row else None


def close_session(token: str) -> UserSession | None:
    """Revoke one session: the cookie that carried it stops working at once."""
    row = find_session(token)
    if row is not None:
        row.revoked_at = utcnow()
        session.flush()
    return row
