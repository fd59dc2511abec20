"""Writes to the unit tree: create one unit, load the official provinces and communes.
Flush, never commit (STYLE.md rule 3)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms import policy
from lms.db import session
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people.models import User
from lms.units import queries
from lms.units.models import (
    ALLOWED_PARENTS,
    MAX_DEPTH,
    OFFICIAL_KINDS,
    Unit,
    UnitKind,
    child_path,
)


def placement_problem(kind: UnitKind, parent: Unit | None) -> str | None:
    """Why a unit of `kind` cannot sit under `parent`, or None."""
    if parent is None:
        return None if kind is UnitKind.MINISTRY else _("A parent unit is required.")
    if parent.kind not in ALLOWED_PARENTS[kind]:
        return _("A unit of type \u201c%(kind)s\u201d cannot be placed under a unit of type "
                 "\u201c%(parent)s\u201d.",
                 kind=kind_label(kind), parent=kind_label(parent.kind))
    if parent.depth + 1 > MAX_DEPTH:
        return _("The unit tree may not be deeper than %(max)s levels.", max=MAX_DEPTH)
    return None


def kind_label(kind: UnitKind) -> str:
    labels = {
        UnitKind.MINISTRY: _("ministry"), UnitKind.PROVINCE: _("province"),
        UnitKind.COMMUNE: _("commune"), UnitKind.SCHOOL: _("school"),
        UnitKind.CLASS: _("class"), UnitKind.AGENCY: _("agency"),
        UnitKind.DEPARTMENT: _("department"),
    }
    return labels[kind]


def new_unit(code: str, name: str, kind: UnitKind, parent: Unit | None,
             division_type: str | None = None) -> Unit:
    unit = Unit(code=code, name=name, kind=kind, path=child_path(parent, code),
                depth=parent.depth + 1 if parent else 0, division_type=division_type)
    unit.parent = parent  # works for a parent not yet flushed (imports create whole subtrees)
    session.add(unit)
    return unit


def create_unit(actor: User | None, *, code: str, name: str, kind: UnitKind,
                parent_code: str) -> Unit:
    """Create a school, class, agency or department below a unit the actor manages.

    Raises NotFound (parent invisible), Forbidden-as-NotFound (not managed), Conflict (code
    taken) or ValidationFailed (kind cannot sit there, or is an official kind).
    """
    parent = queries.get_unit(parent_code, actor)
    if not policy.can(actor, policy.Permission.MANAGE_UNITS, parent):
        raise NotFound()
    if kind in OFFICIAL_KINDS:
        raise ValidationFailed(errors={"kind": [
            _("Provinces and communes come only from the official list.")]})
    problem = placement_problem(kind, parent)
    if problem:
        raise ValidationFailed(errors={"kind": [problem]})
    if queries.find_unit_by_code(code) is not None:
        raise Conflict(errors={"code": [_("This code is already used by another unit.")]})
    unit = new_unit(code, name, kind, parent)
    session.flush()
    return unit


def load_official_units() -> dict[str, int]:
    """Upsert the national root, the 34 provinces and 3,321 communes of the 2025 two-level
    government from vietnam-provinces, keeping their official codes. Idempotent."""
    from vietnam_provinces import Province, Ward

    counts = {"created": 0, "updated": 0}
    existing = {u.code: u for u in session.execute(
        select(Unit).where(Unit.kind.in_(list(OFFICIAL_KINDS)))).scalars()}

    def upsert(code: str, name: str, kind: UnitKind, parent: Unit | None,
               division_type: str | None) -> Unit:
        unit = existing.get(code)
        if unit is None:
            counts["created"] += 1
            unit = new_unit(code, name, kind, parent, division_type)
            existing[code] = unit
        elif (unit.name, unit.division_type) != (name, division_type):
            counts["updated"] += 1
            unit.name, unit.division_type = name, division_type
        return unit

    config = current_app.config
    root = upsert(config["ROOT_UNIT_CODE"], config["ROOT_UNIT_NAME"], UnitKind.MINISTRY,
                  None, None)
    session.flush()
    provinces = {}
    for province in Province.iter_all():
        code = f"{province.code.value:02d}"
        provinces[province.code] = upsert(code, province.name, UnitKind.PROVINCE, root,
                                          province.division_type.value)
    session.flush()
    for ward in Ward.iter_all():
        upsert(f"{ward.code.value:05d}", ward.name, UnitKind.COMMUNE,
               provinces[ward.province_code], ward.division_type.value)
    session.flush()
    return counts
