"""Roster writes besides imports: exemptions, linking at sign-in, the conflict queue."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from enrollment.reports import counters
from enrollment.rosters.models import EntryStatus, ExemptReason, LinkConflict, RosterEntry
from lms import policy
from lms.audit.service import record
from lms.db import session, utcnow
from lms.errors import InvalidState, NotFound, ValidationFailed
from lms.people.models import User
from lms.units.models import Unit


def get_entry(actor: User, entry_id: int) -> RosterEntry:
    """An entry of a unit the actor manages. Raises NotFound otherwise."""
    row = session.execute(select(RosterEntry, Unit).join(
        Unit, Unit.id == RosterEntry.unit_id).where(RosterEntry.id == entry_id)).first()
    if row is None or not policy.can(actor, policy.Permission.MANAGE_UNITS, row[1]):
        raise NotFound()
    return row[0]


def exempt(actor: User, entry_id: int, reason: ExemptReason, note: str | None) -> RosterEntry:
    """Take a person out of the denominator, with a reason. Raises InvalidState for a person
    who has left the roster."""
    entry = get_entry(actor, entry_id)
    if entry.status is EntryStatus.LEFT:
        raise InvalidState(_("This person is no longer on the roster."))
    entry.status, entry.exempt_reason, entry.exempt_note = EntryStatus.EXEMPT, reason, note
    entry.updated_at = utcnow()
    session.flush()
    counters.refresh_units([entry.unit_id])
    # No reason in the log: "long illness" is health data, and this line is never erased.
    record("rosters.exempt", unit=entry.unit_id, target=f"entry:{entry.id}", actor=actor)
    return entry


def end_exemption(actor: User, entry_id: int) -> RosterEntry:
    entry = get_entry(actor, entry_id)
    if entry.status is EntryStatus.EXEMPT:
        entry.status, entry.exempt_reason, entry.exempt_note = EntryStatus.ACTIVE, None, None
        entry.updated_at = utcnow()
        session.flush()
        counters.refresh_units([entry.unit_id])
        record("rosters.unexempt", unit=entry.unit_id, target=f"entry:{entry.id}", actor=actor)
    return entry


def link_user(user: User, personal_id_hash: str | None) -> None:
    """At sign-in: link roster entries carrying the user's verified ID (never by name). An ID
    that another account already holds, or entries linked to another account, become
    conflicts for the unit admin."""
    if not personal_id_hash:
        return
    entries = list(session.execute(select(RosterEntry).where(
        RosterEntry.personal_id_hash == personal_id_hash,
        RosterEntry.status != EntryStatus.LEFT)).scalars())
    linked: list[int] = []
    for entry in entries:
        if user.personal_id_hash != personal_id_hash or (
                entry.user_id is not None and entry.user_id != user.id):
            _conflict(entry, "two_accounts", f"user {user.id}")
        elif entry.user_id is None:
            entry.user_id = user.id
            linked.append(entry.unit_id)
    session.flush()
    counters.refresh_units(linked)


def _conflict(entry: RosterEntry, kind: str, detail: str) -> None:
    open_one = session.execute(select(LinkConflict).where(
        LinkConflict.entry_id == entry.id, LinkConflict.kind == kind,
        LinkConflict.resolved_at.is_(None))).scalar_one_or_none()
    if open_one is None:
        session.add(LinkConflict(unit_id=entry.roster_unit_id, entry_id=entry.id,
                                 personal_id_hash=entry.personal_id_hash, kind=kind,
                                 detail=detail))


def resolve_conflict(actor: User, conflict_id: int, user_id: int | None) -> LinkConflict:
    """The admin links the entry to one of the accounts (or to none) and closes the case."""
    conflict = session.get(LinkConflict, conflict_id)
    unit = session.get(Unit, conflict.unit_id) if conflict is not None else None
    if (conflict is None or conflict.resolved_at is not None or unit is None
            or not policy.can(actor, policy.Permission.MANAGE_UNITS, unit)):
        raise NotFound()
    entry = get_entry(actor, conflict.entry_id) if conflict.entry_id else None
    if user_id is not None:
        # Only an account that carries this very ID may be chosen.
        candidate = session.get(User, user_id)
        if candidate is None or candidate.personal_id_hash != conflict.personal_id_hash:
            raise ValidationFailed(errors={"user_id": [
                _("This account does not carry the person's ID.")]})
    if entry is not None:
        entry.user_id = user_id
    conflict.resolved_at, conflict.resolved_by_id = utcnow(), actor.id
    session.flush()
    if entry is not None:
        counters.refresh_units([entry.unit_id])
    record("rosters.resolve_conflict", unit=unit, target=f"conflict:{conflict.id}", actor=actor,
           details={"kind": conflict.kind, "linked_user": user_id})
    return conflict
