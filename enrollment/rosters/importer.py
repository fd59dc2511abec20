"""Roster import: validate every line, then (unless a dry run) replace the unit's roster in one
transaction with a visible diff. Removed people become "left", never deleted, so their
progress stays. Flush only."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from enrollment.reports import counters
from enrollment.rosters import staging
from enrollment.rosters.models import RosterEntry, RosterImport, RosterStage
from enrollment.rosters.validate import REQUIRED, SYNONYMS, Person, check_row
from lms import policy
from lms.audit import service as audit
from lms.db import session, utcnow
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people.models import User
from lms.pii import hash_personal_id, mask_personal_id, pii_key
from lms.tabular import read_table
from lms.units import queries as unit_queries
from lms.units.models import Unit, UnitKind, subtree_bounds

ROSTER_KINDS = {UnitKind.SCHOOL, UnitKind.CLASS, UnitKind.AGENCY, UnitKind.DEPARTMENT}
GROUP_KINDS = {UnitKind.CLASS, UnitKind.DEPARTMENT}


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
    every bad line when not a dry run, Conflict for a key reused with another file.

    The dry run keeps the valid lines in a stage; the save then works from that stage (a
    save without a dry run, from the CLI, checks and stages the file first)."""
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
    stage = None if dry_run else staging.find(unit, digest)
    if stage is None:
        stage = _stage(unit, filename, data, digest, report)
    else:
        report.rows = stage.rows
    _check_other_rosters(actor, unit, stage, report)
    report.problems.sort(key=lambda p: (p["line"], p["column"]))
    if not report.valid:
        staging.drop(stage)
        if dry_run:
            return report
        raise ValidationFailed(_("The roster was refused; nothing was written."),
                               errors={"lines": report.problems})
    _compare(unit, stage, report)
    if not dry_run:
        report.import_id = _write(actor, unit, filename, digest, idempotency_key, stage,
                                  report)
        staging.drop(stage)
    return report


def _stage(unit: Unit, filename: str, data: bytes, digest: str,
           report: RosterReport) -> RosterStage:
    """Read and check every line; the valid ones go to a new stage."""
    groups = _groups(unit)
    people = _read(unit, groups, filename, data, report)
    key = pii_key()
    unit_ids = {u.code: u.id for u in groups.values()} | {unit.code: unit.id}
    rows = [{"line": p.line, "unit_id": unit_ids[p.group_unit],
             "personal_id_hash": hash_personal_id(p.personal_id, key),
             "personal_id_masked": mask_personal_id(p.personal_id),
             "full_name": p.full_name, "birth_on": p.birth_on, "sex": p.sex,
             "group_label": p.group_label} for p in people]
    stage = staging.create(unit, digest, rows)
    stage.rows = report.rows
    return stage


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


def _check_other_rosters(actor: User | None, unit: Unit, stage: RosterStage,
                         report: RosterReport) -> None:
    for line, other in staging.on_other_rosters(unit, stage):
        visible = actor is None or policy.can(actor, policy.Permission.VIEW_PEOPLE, other)
        message = (_("Already on the active roster of %(unit)s.", unit=other.name)
                   if visible else _("Already on the active roster of another unit."))
        report.problems.append({"line": line, "column": "personal_id", "message": message})


def _write(actor: User | None, unit: Unit, filename: str, digest: str, key: str | None,
           stage: RosterStage, report: RosterReport) -> int:
    record = RosterImport(unit_id=unit.id, imported_by_id=actor.id if actor else None,
                          filename=filename[:255], file_sha256=digest,
                          idempotency_key=key or hashlib.sha256(
                              f"{unit.id}:{digest}:{utcnow().isoformat()}".encode()).hexdigest(),
                          rows=report.rows, added=report.added, removed=report.removed,
                          changed=report.changed, unchanged=report.unchanged)
    session.add(record)
    session.flush()
    staging.apply(unit, stage, record.id, utcnow())
    link_unlinked(unit)
    session.flush()
    counters.refresh_subtree(unit)
    audit.record("rosters.import", unit=unit, target=f"sha256:{digest[:16]}", actor=actor,
                 details={"import": record.id, "rows": report.rows, "added": report.added,
                          "removed": report.removed, "changed": report.changed})
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


def staged_report(actor: User | None, unit_code: str, digest: str) -> RosterReport | None:
    """The dry run's report of a file checked earlier (by a background job), from its stage:
    counts and a sample of the changes, without reading the file again. None when the stage is
    gone (expired, saved, or its classes moved): the file must be checked again."""
    unit = roster_unit(actor, unit_code)
    stage = staging.find(unit, digest)
    if stage is None:
        return None
    report = RosterReport(dry_run=True, rows=stage.rows)
    _compare(unit, stage, report)
    return report


def _compare(unit: Unit, stage: RosterStage, report: RosterReport) -> None:
    """The stage against the unit's roster: counts and a sample of each kind of change."""
    counts, report.diff = staging.diff(unit, stage)
    report.added, report.changed, report.removed = (
        counts["added"], counts["changed"], counts["removed"])
    report.unchanged = stage.rows - report.added - report.changed
