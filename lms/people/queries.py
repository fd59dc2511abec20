"""Reads of people and grants, scoped in SQL by the policy."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from lms import policy
from lms.db import session, utcnow
from lms.errors import NotFound
from lms.people.models import RoleGrant, User
from lms.units.models import Unit, subtree_bounds


def _current_grant():
    now = utcnow()
    return (RoleGrant.revoked_at.is_(None),
            or_(RoleGrant.expires_at.is_(None), RoleGrant.expires_at > now))


def visible_users(actor: User | None, under: Unit | None = None) -> Select[tuple[User]]:
    """Users with a current grant inside the actor's people scope (and under `under`)."""
    condition = [RoleGrant.user_id == User.id, *_current_grant(),
                 policy.unit_filter(actor, policy.Permission.VIEW_PEOPLE, Unit.path)]
    if under is not None:
        low, high = subtree_bounds(under.path)
        condition += [Unit.path >= low, Unit.path < high]
    in_scope = (select(RoleGrant.id).join(Unit, Unit.id == RoleGrant.unit_id)
                .where(*condition).exists())
    return select(User).where(in_scope).order_by(User.full_name, User.id)


def people_under(actor: User | None, unit: Unit) -> Select[tuple[User]]:
    """People of a unit's subtree. Raises NotFound unless the actor may see them all."""
    if not policy.can(actor, policy.Permission.VIEW_PEOPLE, unit):
        raise NotFound()
    return visible_users(actor, under=unit)


def get_user(actor: User | None, user_id: int) -> User:
    """Raises NotFound when the user does not exist or is outside the actor's scope."""
    if actor is not None and getattr(actor, "id", None) == user_id:
        return actor
    user = session.execute(visible_users(actor).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        raise NotFound()
    return user


def find_user_by_personal_id_hash(digest: str) -> User | None:
    return session.execute(select(User).where(User.personal_id_hash == digest)
                           ).scalar_one_or_none()


def current_grants(user: User) -> list[RoleGrant]:
    return list(session.execute(select(RoleGrant).where(
        RoleGrant.user_id == user.id, *_current_grant()).order_by(RoleGrant.id)).scalars())


def grants_on(actor: User | None, unit: Unit) -> Select[tuple[RoleGrant]]:
    """Current grants on one unit, if the actor may see the unit's people."""
    if not policy.can(actor, policy.Permission.VIEW_PEOPLE, unit):
        raise NotFound()
    return (select(RoleGrant).where(RoleGrant.unit_id == unit.id, *_current_grant())
            .order_by(RoleGrant.role, RoleGrant.id))


def get_grant(grant_id: int) -> RoleGrant:
    grant = session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound()
    return grant
