"""Roster import: validate every line, then (unless a dry run) replace the unit's roster in one
transaction with a visible diff. Removed people become "left", never deleted, so their
progress stays. Flush only."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import String, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from enrollment.rosters.models import EntryStatus, RosterEntry, RosterImport
from enrollment.rosters.validate import REQUIRED, SYNONYMS, Person, check_row
from lms import policy
from lms.bulk import insert_rows
from lms.db import session, utcnow
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people.models import User
from lms.pii import hash_personal_id, mask_personal_id, pii_key
from lms.tabular import read_table
from lms.units import queries as unit_queries
from lms.units.models import Unit, UnitKind, subtree_bounds

ROSTER_KINDS = {UnitKind.SCHOOL, UnitKind.CLASS, UnitKind.AGENCY, UnitKind.DEPARTMENT}
GROUP_KINDS = {UnitKind.CLASS, UnitKind.DEPARTMENT}
CHUNK = 900  # below every engine's bound-parameter limit
SQLITE_CHUNK = 30_000  # SQLite ≥ 3.32 allows 32,766 parameters a statement


@dataclass
class RosterReport:
    dry_run: bool
    rows: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    diff: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    import_id: int | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def roster_unit(actor: User | None, code: str) -> Unit:
    """A school, class, agency or department the actor manages. Raises NotFound."""
    unit = (unit_queries.get_unit(code, actor) if actor is not None
            else unit_queries.find_unit_by_code(code))
    if unit is None or (actor is not None and not policy.can(
            actor, policy.Permission.MANAGE_UNITS, unit)):
        raise NotFound()
    if unit.kind not in ROSTER_KINDS:
        raise ValidationFailed(errors={"unit": [
            _("Rosters belong to a school, class, agency or department.")]})
    return unit


def import_roster(actor: User | None, unit_code: str, filename: str, data: bytes, *,
                  dry_run: bool, idempotency_key: str | None = None) -> RosterReport:
    """Validate all lines; unless dry_run, write them all. Raises ValidationFailed listing
    every bad line when not a dry run, Conflict for a key reused with another file."""
    unit = roster_unit(actor, unit_code)
    digest = hashlib.sha256(data).hexdigest()
    if not dry_run and idempotency_key:
        done = session.execute(select(RosterImport).where(
            RosterImport.idempotency_key == idempotency_key)).scalar_one_or_none()
        if done is not None:
            if (done.file_sha256, done.unit_id) != (digest, unit.id):
                raise Conflict(_("This import key was used for another file."))
            return RosterReport(dry_run=False, rows=done.rows, added=done.added,
                                removed=done.removed, changed=done.changed,
                                unchanged=done.unchanged, import_id=done.id)
    report = RosterReport(dry_run=dry_run)
    groups = _groups(unit)
    people = _read(unit, groups, filename, data, report)
    key = pii_key()
    hashes = {p.line: hash_personal_id(p.personal_id, key) for p in people}
    _check_other_rosters(actor, unit, people, hashes, report)
    report.problems.sort(key=lambda p: (p["line"], p["column"]))
    if not report.valid:
        if dry_run:
            return report
        raise ValidationFailed(_("The roster was refused; nothing was written."),
                               errors={"lines": report.problems})
    plan = _diff(unit, groups, people, hashes, report)
    if not dry_run:
        report.import_id = _write(actor, unit, filename, digest, idempotency_key, plan, report)
    return report


def _read(unit: Unit, groups: dict[str, Unit], filename: str, data: bytes,
          report: RosterReport) -> list[Person]:
    required = REQUIRED | ({"group_unit"} if unit.kind not in GROUP_KINDS else set())
    people: list[Person] = []
    seen: dict[str, int] = {}
    for row in read_table(filename, io.BytesIO(data), SYNONYMS, required):
        report.rows += 1
        person = check_row(row.line, row.values, report.problems)
        if person is None:
            continue
        if person.personal_id in seen:
            report.problems.append({"line": row.line, "column": "personal_id", "message": _(
                "The same personal ID is already on line %(other)s.",
                other=seen[person.personal_id])})
            continue
        seen[person.personal_id] = row.line
        target = groups.get(person.group_unit.casefold()) if person.group_unit else None
        if unit.kind in GROUP_KINDS and (target is None or not person.group_unit):
            target = unit
        if target is None:
            report.problems.append({"line": row.line, "column": "group_unit", "message": _(
                "No class or department \u201c%(name)s\u201d in %(unit)s.",
                name=person.group_unit[:60], unit=unit.name)})
            continue
        person.group_unit = target.code
        people.append(person)
    return people


def _groups(unit: Unit) -> dict[str, Unit]:
    """Classes/departments at or under the unit, by code and by name (case-folded)."""
    low, high = subtree_bounds(unit.path)
    units = session.execute(select(Unit).where(Unit.path >= low, Unit.path < high,
                                               Unit.kind.in_(list(GROUP_KINDS)))).scalars()
    found: dict[str, Unit] = {}
    for item in units:
        found[item.code.casefold()] = item
        found.setdefault(item.name.casefold(), item)
    return found


def _check_other_rosters(actor: User | None, unit: Unit, people: list[Person],
                         hashes: dict[int, str], report: RosterReport) -> None:
    by_hash = {hashes[p.line]: p for p in people}
    keys = list(by_hash)
    postgres = session.get_bind().dialect.name == "postgresql"
    # PostgreSQL takes the whole list as one array parameter; SQLite gets large IN chunks
    # (rendering thousands of named parameters was the cost, not the lookups).
    size = (len(keys) or 1) if postgres else SQLITE_CHUNK
    for start in range(0, len(keys), size):
        chunk = keys[start:start + size]
        match = (RosterEntry.personal_id_hash == any_(
            bindparam("hashes", chunk, type_=ARRAY(String(64)))) if postgres
            else RosterEntry.personal_id_hash.in_(chunk))
        rows = session.execute(
            select(RosterEntry.personal_id_hash, Unit).join(
                Unit, Unit.id == RosterEntry.roster_unit_id)
            .where(match, RosterEntry.roster_unit_id != unit.id,
                   RosterEntry.status == EntryStatus.ACTIVE)).all()
        for digest, other in rows:
            visible = actor is None or policy.can(actor, policy.Permission.VIEW_PEOPLE, other)
            message = (_("Already on the active roster of %(unit)s.", unit=other.name)
                       if visible else _("Already on the active roster of another unit."))
            report.problems.append({"line": by_hash[digest].line, "column": "personal_id",
                                    "message": message})


@dataclass
class _Plan:
    add: list[dict[str, Any]]
    change: list[dict[str, Any]]
    remove: list[int]


def _diff(unit: Unit, groups: dict[str, Unit], people: list[Person], hashes: dict[int, str],
          report: RosterReport) -> _Plan:
    existing = {e.personal_id_hash: e for e in session.execute(
        select(RosterEntry).where(RosterEntry.roster_unit_id == unit.id)).scalars()}
    unit_ids = {u.code: u.id for u in groups.values()} | {unit.code: unit.id}
    plan = _Plan([], [], [])
    report.diff = {"added": [], "removed": [], "changed": []}
    for person in people:
        digest = hashes[person.line]
        values = {"full_name": person.full_name, "birth_on": person.birth_on,
                  "unit_id": unit_ids[person.group_unit], "sex": person.sex,
                  "group_label": person.group_label}
        entry = existing.pop(digest, None)
        shown = {"name": person.full_name, "id": mask_personal_id(person.personal_id)}
        if entry is None or entry.status is EntryStatus.LEFT:
            report.added += 1
            report.diff["added"].append(shown)
            row = {**values, "status": EntryStatus.ACTIVE, "personal_id_hash": digest,
                   "personal_id_masked": mask_personal_id(person.personal_id)}
            if entry is None:
                plan.add.append(row)
            else:
                plan.change.append({"id": entry.id, **row})
        elif any(getattr(entry, k) != v for k, v in values.items()):
            report.changed += 1
            report.diff["changed"].append(shown)
            plan.change.append({"id": entry.id, **values})
        else:
            report.unchanged += 1
    for entry in existing.values():
        if entry.status is not EntryStatus.LEFT:
            report.removed += 1
            report.diff["removed"].append({"name": entry.full_name,
                                           "id": entry.personal_id_masked})
            plan.remove.append(entry.id)
    for key in report.diff:
        report.diff[key] = report.diff[key][:200]  # the page shows a sample; counts are exact
    return plan


def _write(actor: User | None, unit: Unit, filename: str, digest: str, key: str | None,
           plan: _Plan, report: RosterReport) -> int:
    record = RosterImport(unit_id=unit.id, imported_by_id=actor.id if actor else None,
                          filename=filename[:255], file_sha256=digest,
                          idempotency_key=key or hashlib.sha256(
                              f"{unit.id}:{digest}:{utcnow().isoformat()}".encode()).hexdigest(),
                          rows=report.rows, added=report.added, removed=report.removed,
                          changed=report.changed, unchanged=report.unchanged)
    session.add(record)
    session.flush()
    now = utcnow()
    insert_rows(RosterEntry.__table__, [
        {**row, "roster_unit_id": unit.id, "import_id": record.id, "updated_at": now,
         "exempt_reason": None, "exempt_note": None, "user_id": None} for row in plan.add])
    if plan.change:
        session.execute(update(RosterEntry), [
            {**row, "import_id": record.id, "updated_at": now} for row in plan.change])
    for start in range(0, len(plan.remove), CHUNK):
        session.execute(update(RosterEntry).where(
            RosterEntry.id.in_(plan.remove[start:start + CHUNK]))
            .values(status=EntryStatus.LEFT, updated_at=now))
    link_unlinked(unit)
    session.flush()
    return record.id


def link_unlinked(unit: Unit) -> None:
    """Link the roster's entries to users whose verified personal ID matches (keyed hash)."""
    matches = session.execute(
        select(RosterEntry.id, User.id).join(
            User, User.personal_id_hash == RosterEntry.personal_id_hash)
        .where(RosterEntry.roster_unit_id == unit.id, RosterEntry.user_id.is_(None))).all()
    if matches:
        session.execute(update(RosterEntry), [{"id": entry_id, "user_id": user_id}
                                              for entry_id, user_id in matches])
