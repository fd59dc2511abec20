"""The Unit tree, stored with a materialised path of unit codes ("/BGDDT/08/02263/") so a
subtree is one indexed range scan on both SQLite and PostgreSQL. Codes never change."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UtcDateTime, path_string, str_enum, utcnow


class UnitKind(enum.StrEnum):
    MINISTRY = "ministry"
    PROVINCE = "province"
    COMMUNE = "commune"
    SCHOOL = "school"
    CLASS = "class"
    AGENCY = "agency"
    DEPARTMENT = "department"


# Which kind may sit under which: the reporting chain of DESIGN.md.
ALLOWED_PARENTS: dict[UnitKind, set[UnitKind]] = {
    UnitKind.MINISTRY: set(),
    UnitKind.PROVINCE: {UnitKind.MINISTRY},
    UnitKind.COMMUNE: {UnitKind.PROVINCE},
    # provincial upper-secondary schools report to the province, the others to the commune
    UnitKind.SCHOOL: {UnitKind.PROVINCE, UnitKind.COMMUNE},
    UnitKind.CLASS: {UnitKind.SCHOOL},
    UnitKind.AGENCY: {UnitKind.MINISTRY, UnitKind.PROVINCE, UnitKind.COMMUNE},
    UnitKind.DEPARTMENT: {UnitKind.AGENCY, UnitKind.DEPARTMENT},
}
# The official administrative units are public reference data (the government gazette);
# everything below them (schools, agencies, people) is visible only within a user's scope.
PUBLIC_KINDS = frozenset({UnitKind.MINISTRY, UnitKind.PROVINCE, UnitKind.COMMUNE})
OFFICIAL_KINDS = PUBLIC_KINDS
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
NAME_MAX = 200
# A name a spreadsheet would run as a formula once exported (OWASP "CSV injection"); no unit
# name starts like this, so forms, the API and imports all refuse it.
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_DEPTH = 12
PATH_MAX = (MAX_DEPTH + 1) * 41 + 1


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, "unit_kind", 16))
    # the official division type ("xã", "phường", "đặc khu", "tỉnh" ...), when there is one
    division_type: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"),
                                                  index=True)
    path: Mapped[str] = mapped_column(path_string(PATH_MAX), unique=True)
    depth: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id", lazy="raise")

    __table_args__ = (
        CheckConstraint("depth >= 0 AND depth <= 12", name="depth_in_range"),
        Index("ix_units_kind_parent_id", "kind", "parent_id"),
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.kind}>"

    @property
    def ancestor_codes(self) -> list[str]:
        return self.path.strip("/").split("/")[:-1]


def child_path(parent: Unit | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


def subtree_bounds(path: str) -> tuple[str, str]:
    """[low, high) such that every path under `path` (itself included) lies in it.

    Codes never contain "/", and "0" is the character right after "/", so the range holds
    exactly the paths that start with `path`: the same set as
    `path LIKE :scope || '%'` but a plain B-tree range that both engines use for bound
    parameters (PostgreSQL cannot use an index for LIKE with a parameter in a generic plan,
    and SQLite's LIKE is case-insensitive and so skips the index).
    """
    return path, path[:-1] + "0"
