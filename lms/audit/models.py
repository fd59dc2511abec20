"""AuditEvent: one append-only line of who did what, when, on which unit, in which request.
The database itself refuses UPDATE and DELETE (triggers in migration 20261123_0010)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UtcDateTime, path_string, utcnow
from lms.units.models import PATH_MAX

TARGET_MAX = 200


class AuditEvent(Base):
    __tablename__ = "audit_events"

    # 64-bit on PostgreSQL (every sign-in of 25 million learners is a row); SQLite's rowid
    # alias must be spelled INTEGER.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # SET NULL keeps the line when a user is erased; actor_name is frozen at the time. The
    # triggers let exactly this update through (nulling actor_id or unit_id), nothing else.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # "roles.grant", "rosters.import" ...
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    unit_path: Mapped[str | None] = mapped_column(path_string(PATH_MAX))  # scope in SQL
    # A serial, an id, a file hash prefix: never a personal ID (redacted on the way in).
    target: Mapped[str | None] = mapped_column(String(TARGET_MAX))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The client's network, not its address: IPv4 /24, IPv6 /48 (Decree 13/2023: an address
    # is personal data; the network is enough to notice a sign-in from an unusual place).
    ip: Mapped[str | None] = mapped_column(String(49))

    __table_args__ = (
        Index("ix_audit_events_unit_path_at", "unit_path", "at"),
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_id", "actor_id"),
    )

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"
