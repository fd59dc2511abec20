"""A checked roster file's valid lines in a staging table, and the set-based statements that
compare them with the unit's roster and apply the difference. Staging once and saving from
the stage is what keeps a 100,000-line roster close to the engine's own load speed: the file
is read and checked once (the dry run), and the save is a handful of INSERT … SELECT and
UPDATE … FROM statements instead of a second pass in Python. Flush only."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from enrollment.rosters.models import EntryStatus, RosterEntry, RosterStage, RosterStageRow
from lms.bulk import insert_rows
from lms.db import session, utcnow
from lms.units.models import Unit, subtree_bounds

STAGE_TTL = timedelta(hours=24)  # as long as the uploaded file is kept (lms/storage.py)
SAMPLE = 200  # the page shows a sample of each kind of change; the counts are exact

staged = RosterStageRow.__table__.alias("s")
entry = RosterEntry.__table__


def create(unit: Unit, digest: str, rows: list[dict]) -> RosterStage:
    """A new stage for this file, replacing an older one of the same file and unit."""
    _drop_where(and_(RosterStage.unit_id == unit.id, RosterStage.file_sha256 == digest))
    _drop_where(RosterStage.created_at < utcnow() - STAGE_TTL)
    stage = RosterStage(unit_id=unit.id, file_sha256=digest, rows=0)
    session.add(stage)
    session.flush()
    insert_rows(RosterStageRow.__table__, [{**row, "stage_id": stage.id} for row in rows])
    return stage


def find(unit: Unit, digest: str) -> RosterStage | None:
    """The fresh stage of this file for this unit, locked against a concurrent save; None when
    there is none or a class it points to is no longer under the unit (then check again)."""
    stage = session.execute(
        select(RosterStage).where(RosterStage.unit_id == unit.id,
                                  RosterStage.file_sha256 == digest,
                                  RosterStage.created_at >= utcnow() - STAGE_TTL)
        .order_by(RosterStage.id.desc()).limit(1).with_for_update()).scalar_one_or_none()
    if stage is None:
        return None
    low, high = subtree_bounds(unit.path)
    used = select(staged.c.unit_id).where(staged.c.stage_id == stage.id).distinct()
    paths = session.execute(select(Unit.path).where(Unit.id.in_(used))).scalars()
    return stage if all(low <= path < high for path in paths) else None


def drop(stage: RosterStage) -> None:
    _drop_where(RosterStage.id == stage.id)


def _drop_where(condition) -> None:
    ids = select(RosterStage.id).where(condition).scalar_subquery()
    session.execute(delete(RosterStageRow).where(RosterStageRow.stage_id.in_(ids)))
    session.execute(delete(RosterStage).where(condition))


def on_other_rosters(unit: Unit, stage: RosterStage) -> list[tuple[int, Unit]]:
    """(line, other unit) for staged people already on another unit's active roster."""
    return list(session.execute(
        select(staged.c.line, Unit).select_from(staged)
        .join(entry, entry.c.personal_id_hash == staged.c.personal_id_hash)
        .join(Unit, Unit.id == entry.c.roster_unit_id)
        .where(staged.c.stage_id == stage.id, entry.c.roster_unit_id != unit.id,
               entry.c.status == EntryStatus.ACTIVE.value)).all())


def _matched(unit: Unit, stage: RosterStage, outer: bool = False):
    on = and_(entry.c.roster_unit_id == unit.id,
              entry.c.personal_id_hash == staged.c.personal_id_hash)
    return staged.join(entry, on, isouter=outer)


def _differs():
    return or_(entry.c.full_name != staged.c.full_name, entry.c.birth_on != staged.c.birth_on,
               entry.c.unit_id != staged.c.unit_id,
               entry.c.sex.is_distinct_from(staged.c.sex),
               entry.c.group_label.is_distinct_from(staged.c.group_label))


def _added(unit: Unit, stage: RosterStage) -> Select:
    return select(staged.c.full_name, staged.c.personal_id_masked).select_from(
        _matched(unit, stage, outer=True)).where(
        staged.c.stage_id == stage.id,
        or_(entry.c.id.is_(None), entry.c.status == EntryStatus.LEFT.value))


def _changed(unit: Unit, stage: RosterStage) -> Select:
    return select(staged.c.full_name, staged.c.personal_id_masked).select_from(
        _matched(unit, stage)).where(
        staged.c.stage_id == stage.id, entry.c.status != EntryStatus.LEFT.value, _differs())


def _not_in_file(unit: Unit, stage: RosterStage):
    return and_(entry.c.roster_unit_id == unit.id, entry.c.status != EntryStatus.LEFT.value,
                ~exists().where(staged.c.stage_id == stage.id,
                                staged.c.personal_id_hash == entry.c.personal_id_hash))


def _removed(unit: Unit, stage: RosterStage) -> Select:
    return select(entry.c.full_name, entry.c.personal_id_masked).where(
        _not_in_file(unit, stage))


def diff(unit: Unit, stage: RosterStage) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """Counts of added/changed/removed people and a sample of each, in file order."""
    counts: dict[str, int] = {}
    samples: dict[str, list[dict]] = {}
    for name, query, order in (("added", _added(unit, stage), staged.c.line),
                               ("changed", _changed(unit, stage), staged.c.line),
                               ("removed", _removed(unit, stage), entry.c.full_name)):
        counts[name] = session.execute(
            select(func.count()).select_from(query.subquery())).scalar_one()
        samples[name] = [{"name": full_name, "id": masked} for full_name, masked in
                         session.execute(query.order_by(order).limit(SAMPLE))]
    return counts, samples


def apply(unit: Unit, stage: RosterStage, import_id: int, now: datetime) -> None:
    """Make the unit's roster equal to the stage: people not in the file become "left" (never
    deleted: their progress stays), changed and returning people are updated, new people
    inserted. Exempt people in the file stay exempt."""
    session.execute(update(entry).where(_not_in_file(unit, stage)).values(
        status=EntryStatus.LEFT.value, updated_at=now), execution_options={
        "synchronize_session": False})
    left = EntryStatus.LEFT.value
    session.execute(
        update(entry).where(entry.c.roster_unit_id == unit.id,
                            entry.c.personal_id_hash == staged.c.personal_id_hash,
                            staged.c.stage_id == stage.id,
                            or_(entry.c.status == left, _differs()))
        .values(full_name=staged.c.full_name, birth_on=staged.c.birth_on,
                unit_id=staged.c.unit_id, sex=staged.c.sex, group_label=staged.c.group_label,
                personal_id_masked=staged.c.personal_id_masked,
                status=case((entry.c.status == left, EntryStatus.ACTIVE.value),
                            else_=entry.c.status),
                import_id=import_id, updated_at=now),
        execution_options={"synchronize_session": False})
    columns = ["unit_id", "roster_unit_id", "personal_id_hash", "personal_id_masked",
               "full_name", "birth_on", "sex", "group_label", "status", "import_id",
               "updated_at"]
    session.execute(insert(entry).from_select(columns, select(
        staged.c.unit_id, literal(unit.id), staged.c.personal_id_hash,
        staged.c.personal_id_masked, staged.c.full_name, staged.c.birth_on, staged.c.sex,
        staged.c.group_label, literal(EntryStatus.ACTIVE.value), literal(import_id),
        literal(now, RosterEntry.__table__.c.updated_at.type))
        .select_from(_matched(unit, stage, outer=True))
        .where(staged.c.stage_id == stage.id, entry.c.id.is_(None))
        .order_by(staged.c.line)))
