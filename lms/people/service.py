"""Writes for people and roles. Flush, never commit."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms import policy
from lms.audit.service import CURRENT, record
from lms.db import session, utcnow
from lms.errors import NotFound, ValidationFailed
from lms.people import queries
from lms.people.models import Role, RoleGrant, User
from lms.pii import hash_personal_id, mask_personal_id, normalize_name
from lms.units import queries as unit_queries


def new_user(*, issuer: str, subject: str, full_name: str, birth_on: date | None = None,
             personal_id: str | None = None) -> User:
    user = User(issuer=issuer, subject=subject, full_name=normalize_name(full_name),
                birth_on=birth_on)
    if personal_id:
        user.personal_id_hash = hash_personal_id(personal_id)
        user.personal_id_masked = mask_personal_id(personal_id)
    session.add(user)
    return user


def grant_role(actor: User | None, *, role: Role, unit_code: str, user_id: int | None = None,
               personal_id: str | None = None, expires_at: datetime | None = None) -> RoleGrant:
    """Grant `role` on a unit. actor None = system (CLI).

    Raises NotFound (unit or user invisible to the actor), ValidationFailed (the actor may not
    grant this role there, or the expiry is in the past).
    """
    unit = unit_queries.get_unit(unit_code, actor) if actor else \
        unit_queries.find_unit_by_code(unit_code)
    if unit is None:
        raise NotFound()
    # Permission first: someone who may not grant this learns nothing about who has an account.
    if actor is not None and not policy.may_grant(actor, role, unit):
        raise ValidationFailed(errors={"role": [
            _("You may not grant this role on this unit.")]})
    if personal_id is not None:
        user = queries.find_user_by_personal_id_hash(hash_personal_id(personal_id))
        if user is None:
            raise NotFound(errors={"personal_id": [_("Nobody with this ID has signed in yet.")]})
    elif actor is None:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound()
    else:
        user = queries.get_user(actor, user_id)  # type: ignore[arg-type]
    if unit.kind not in policy.ROLE_UNIT_KINDS[role]:
        raise ValidationFailed(errors={"role": [_("This role does not exist on this unit.")]})
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed(errors={"expires_at": [_("The expiry must be in the future.")]})
    grant = session.execute(select(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.unit_id == unit.id)
    ).scalar_one_or_none()
    if grant is None:
        grant = RoleGrant(user_id=user.id, role=role, unit=unit)
        session.add(grant)
    grant.granted_by_id = actor.id if actor else None
    grant.granted_at, grant.expires_at, grant.revoked_at = utcnow(), expires_at, None
    session.flush()
    record("roles.grant", unit=unit, target=f"user:{user.id}", actor=actor or CURRENT,
           details={"role": str(role), "expires_at": expires_at})
    policy.forget_scopes()
    return grant


def revoke_grant(actor: User | None, grant_id: int) -> RoleGrant:
    """Revoke one grant; it stops counting on the holder's next request.

    Raises NotFound when the grant is outside what the actor may grant.
    """
    grant = queries.get_grant(grant_id)
    if actor is not None and not policy.may_grant(actor, grant.role, grant.unit):
        raise NotFound()
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        session.flush()
        record("roles.revoke", unit=grant.unit_id, target=f"user:{grant.user_id}",
               actor=actor or CURRENT, details={"role": grant.role.value})
    policy.forget_scopes()
    return grant


def set_active(user_id: int, active: bool) -> User:
    """Disable (or re-enable) a user; a disabled user's sessions end on their next request.
    Raises NotFound for an unknown user."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.is_active = active
    session.flush()
    return user
