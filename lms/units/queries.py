"""Reads of units, always through the policy's visibility filter."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from lms import policy
from lms.db import session
from lms.errors import NotFound
from lms.people.models import User
from lms.units.models import Unit, UnitKind, subtree_bounds


def _visible(user: User | None) -> Select[tuple[Unit]]:
    return (select(Unit).options(joinedload(Unit.parent))
            .where(Unit.is_active.is_(True), policy.visible_units_filter(user)))


def get_unit(code: str, user: User | None) -> Unit:
    """The unit with this code if the user may see it. Raises NotFound otherwise."""
    unit = session.execute(_visible(user).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise NotFound()
    return unit


def find_unit_by_code(code: str) -> Unit | None:
    """Unscoped: for services and CLI commands that check permissions themselves."""
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()


def list_units(user: User | None, *, kind: UnitKind | None = None,
               parent_code: str | None = None, q: str | None = None) -> Select[tuple[Unit]]:
    """Visible units, filtered; ordered by code. Raises NotFound for an invisible parent."""
    query = _visible(user)
    if parent_code is not None:
        parent = get_unit(parent_code, user)
        query = query.where(Unit.parent_id == parent.id)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    if q:
        query = query.where(Unit.name.contains(q, autoescape=True))
    return query.order_by(Unit.code)


def subtree_query(root: Unit) -> Select[tuple[Unit]]:
    """Every unit under root, root included: one index range scan on units.path."""
    low, high = subtree_bounds(root.path)
    return select(Unit).where(Unit.path >= low, Unit.path < high)


def ancestors(unit: Unit) -> list[Unit]:
    """Root first, for breadcrumbs."""
    codes = unit.ancestor_codes
    if not codes:
        return []
    rows = session.execute(select(Unit).where(Unit.code.in_(codes))).scalars().all()
    return sorted(rows, key=lambda u: u.depth)


def codes_to_units(codes: set[str]) -> dict[str, Unit]:
    if not codes:
        return {}
    found: dict[str, Unit] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):  # stay under every engine's parameter limit
        chunk = ordered[start:start + 500]
        for unit in session.execute(select(Unit).where(Unit.code.in_(chunk))).scalars():
            found[unit.code] = unit
    return found
