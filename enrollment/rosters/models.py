"""Roster entries (the people a unit expects to complete), the imports that wrote them, and
the queue of link conflicts a unit admin resolves."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UtcDateTime, str_enum, utcnow


class EntryStatus(enum.StrEnum):
    ACTIVE = "active"
    EXEMPT = "exempt"  # leaves the denominator, with a reason
    LEFT = "left"  # no longer on the unit's roster (removed by a re-import)


class ExemptReason(enum.StrEnum):
    LEFT_UNIT = "left_unit"
    LONG_ILLNESS = "long_illness"
    DUPLICATE = "duplicate"
    OTHER = "other"


class RosterImport(Base):
    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    imported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    # The same file under the same key is one import (a retried POST does nothing twice).
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    rows: Mapped[int]
    added: Mapped[int]
    removed: Mapped[int]
    changed: Mapped[int]
    unchanged: Mapped[int]


class RosterEntry(Base):
    __tablename__ = "roster_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The class or department the person belongs to (the import's unit or a unit below it).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    roster_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    personal_id_hash: Mapped[str] = mapped_column(String(64))
    personal_id_masked: Mapped[str] = mapped_column(String(12))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_on: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(10))
    group_label: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus, "entry_status"),
                                                default=EntryStatus.ACTIVE)
    exempt_reason: Mapped[ExemptReason | None] = mapped_column(
        str_enum(ExemptReason, "exempt_reason"))
    exempt_note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_imports.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        # One entry per person per roster; "on another unit's active roster" is a query.
        UniqueConstraint("roster_unit_id", "personal_id_hash"),
        Index("ix_roster_entries_personal_id_hash", "personal_id_hash"),
        Index("ix_roster_entries_unit_id_status", "unit_id", "status"),
        Index("ix_roster_entries_user_id", "user_id"),
    )


class LinkConflict(Base):
    """Two accounts with one ID, or one ID on two active rosters: for a unit admin to settle."""

    __tablename__ = "link_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"))
    personal_id_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(30))  # two_accounts | two_rosters
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))


class RosterStage(Base):
    """A checked file's valid lines, kept between the dry run and the save (at most a day) so
    that saving is a few set-based statements instead of reading and checking the file again.
    Holds what the roster itself would hold: keyed hashes and masked IDs, never an ID in clear."""

    __tablename__ = "roster_stages"  # UNLOGGED on PostgreSQL (see the migration)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_roster_stages_unit_id_file_sha256", "unit_id", "file_sha256"),)


class RosterStageRow(Base):
    __tablename__ = "roster_stage_rows"

    stage_id: Mapped[int] = mapped_column(
        ForeignKey("roster_stages.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    personal_id_hash: Mapped[str] = mapped_column(String(64))
    personal_id_masked: Mapped[str] = mapped_column(String(12))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_on: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(10))
    group_label: Mapped[str | None] = mapped_column(String(100))
