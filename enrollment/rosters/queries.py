"""Roster reads, scoped to people the actor may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from enrollment.rosters.models import EntryStatus, LinkConflict, RosterEntry
from lms import policy
from lms.errors import NotFound
from lms.people.models import User
from lms.units.models import Unit, subtree_bounds


def entries_under(actor: User, unit: Unit, status: EntryStatus | None = None) -> Select[Any]:
    """Roster entries in the unit's subtree. Raises NotFound without VIEW_PEOPLE there."""
    if not policy.can(actor, policy.Permission.VIEW_PEOPLE, unit):
        raise NotFound()
    low, high = subtree_bounds(unit.path)
    query = (select(RosterEntry, Unit.code).join(Unit, Unit.id == RosterEntry.unit_id)
             .where(Unit.path >= low, Unit.path < high)
             .order_by(Unit.code, RosterEntry.full_name, RosterEntry.id))
    if status is not None:
        query = query.where(RosterEntry.status == status)
    return query


def entry_view(entry: RosterEntry, unit_code: str) -> dict[str, Any]:
    return {"id": entry.id, "full_name": entry.full_name,
            "personal_id_masked": entry.personal_id_masked, "birth_on": entry.birth_on,
            "unit_code": unit_code, "status": entry.status,
            "exempt_reason": entry.exempt_reason, "linked": entry.user_id is not None}


def open_conflicts(actor: User, unit: Unit) -> Select[tuple[LinkConflict]]:
    if not policy.can(actor, policy.Permission.MANAGE_UNITS, unit):
        raise NotFound()
    low, high = subtree_bounds(unit.path)
    return (select(LinkConflict).join(Unit, Unit.id == LinkConflict.unit_id)
            .where(Unit.path >= low, Unit.path < high, LinkConflict.resolved_at.is_(None))
            .order_by(LinkConflict.created_at))
