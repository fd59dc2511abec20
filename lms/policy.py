"""The one place that answers "may this user do X on this unit" and writes the SQL filter
that scopes every list and aggregate to what the user may see (DESIGN.md: scope in the query)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from lms.auth.levels import min_levels
from lms.db import session, unit_of_work, utcnow
from lms.people.models import Role, RoleGrant, User
from lms.units.models import PUBLIC_KINDS, Unit, UnitKind, subtree_bounds


class Permission(enum.StrEnum):
    VIEW_UNIT = "view_unit"  # see the unit and its subtree
    MANAGE_UNITS = "manage_units"  # create and import units below
    VIEW_PEOPLE = "view_people"  # see names and masked IDs of people in the subtree
    GRANT_ROLES = "grant_roles"  # grant and revoke roles below
    MANAGE_CERTIFICATES = "manage_certificates"  # revoke, reissue, download a unit's certificates


ROLE_RANK = {Role.LEARNER: 0, Role.UNIT_ADMIN: 1, Role.OFFICER: 2, Role.SYSTEM_ADMIN: 3}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.LEARNER: frozenset(),  # a learner sees their own unit only (below), not its subtree
    Role.UNIT_ADMIN: frozenset(Permission),
    Role.OFFICER: frozenset(Permission),
    Role.SYSTEM_ADMIN: frozenset(Permission),
}
ROLE_UNIT_KINDS: dict[Role, frozenset[UnitKind]] = {
    Role.LEARNER: frozenset({UnitKind.CLASS, UnitKind.SCHOOL, UnitKind.DEPARTMENT,
                             UnitKind.AGENCY}),
    Role.UNIT_ADMIN: frozenset({UnitKind.SCHOOL, UnitKind.CLASS, UnitKind.AGENCY,
                                UnitKind.DEPARTMENT}),
    Role.OFFICER: frozenset({UnitKind.MINISTRY, UnitKind.PROVINCE, UnitKind.COMMUNE}),
    Role.SYSTEM_ADMIN: frozenset({UnitKind.MINISTRY}),
}


@dataclass(frozen=True)
class Scope:
    role: Role
    unit_id: int
    path: str


def scopes(user: User | None) -> tuple[Scope, ...]:
    """The user's current grants, read once per request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    cache = unit_of_work().setdefault("scopes", {})
    if user.id not in cache:
        now = utcnow()
        rows = session.execute(
            select(RoleGrant.role, Unit.id, Unit.path)
            .join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.user_id == user.id, RoleGrant.revoked_at.is_(None),
                   or_(RoleGrant.expires_at.is_(None), RoleGrant.expires_at > now))
        ).all()
        # A role counts only in a session of its minimum assurance level (VNeID level 2 for
        # admins and officers by default); system commands act as `None`, not as a user.
        levels = min_levels()
        level = getattr(user, "session_level", 0)
        cache[user.id] = tuple(Scope(role, unit_id, path) for role, unit_id, path in rows
                               if levels[role.value] <= level)
    return cache[user.id]


def forget_scopes() -> None:
    """Call after changing grants inside the same request."""
    unit_of_work().pop("scopes", None)


def _in_subtree(path: str, root: str) -> bool:
    return path.startswith(root)


def _ranges(column: InstrumentedAttribute[str], roots: list[str]) -> ColumnElement[bool]:
    if not roots:
        return false()
    clauses = []
    for root in roots:
        low, high = subtree_bounds(root)
        clauses.append(and_(column >= low, column < high))
    return or_(*clauses)


def subtree_roots(user: User | None, permission: Permission) -> list[str] | None:
    """Paths whose subtrees the user holds `permission` on; None means everywhere."""
    roots = []
    for scope in scopes(user):
        if scope.role is Role.SYSTEM_ADMIN:
            return None
        if permission in ROLE_PERMISSIONS[scope.role]:
            roots.append(scope.path)
    return roots


def unit_filter(user: User | None, permission: Permission,
                path_column: InstrumentedAttribute[str] = Unit.path) -> ColumnElement[bool]:
    """SQL condition on a unit path column: true where the user holds `permission`."""
    roots = subtree_roots(user, permission)
    if roots is None:
        return true()
    return _ranges(path_column, roots)


def visible_units_filter(user: User | None) -> ColumnElement[bool]:
    """Units a user may see: the public administrative tree, their subtrees, their own units."""
    roots = subtree_roots(user, Permission.VIEW_UNIT)
    if roots is None:
        return true()
    own = [s.unit_id for s in scopes(user) if s.role is Role.LEARNER]
    return or_(Unit.kind.in_(list(PUBLIC_KINDS)), _ranges(Unit.path, roots),
               Unit.id.in_(own) if own else false())


def can(user: User | None, permission: Permission, unit: Unit) -> bool:
    roots = subtree_roots(user, permission)
    return roots is None or any(_in_subtree(unit.path, root) for root in roots)


def can_see(user: User | None, unit: Unit) -> bool:
    if unit.kind in PUBLIC_KINDS or can(user, Permission.VIEW_UNIT, unit):
        return True
    return any(s.unit_id == unit.id for s in scopes(user))


def may_grant(user: User | None, role: Role, unit: Unit) -> bool:
    """Granting is scoped: strictly below one's own unit, never a role above one's own."""
    if unit.kind not in ROLE_UNIT_KINDS[role]:
        return False
    for scope in scopes(user):
        if scope.role is Role.SYSTEM_ADMIN:
            return True
        if (Permission.GRANT_ROLES in ROLE_PERMISSIONS[scope.role]
                and unit.path != scope.path and _in_subtree(unit.path, scope.path)
                and ROLE_RANK[role] <= ROLE_RANK[scope.role]):
            return True
    return False
