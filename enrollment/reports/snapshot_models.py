"""Monthly snapshots ("chốt số liệu"): a unit's figures for a period, locked by an officer or
admin, immutable and content-hashed; a correction is a new version. Reminders and the
in-app notifications they send, kept as an audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UtcDateTime, utcnow


class ReportSnapshot(Base):
    __tablename__ = "report_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # in URLs, not guessable
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))  # "2026-05"
    version: Mapped[int]
    locked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Canonical JSON of the figures (unit, children with their snapshot ids and hashes,
    # courses, counts): what the hash covers and what every export is rendered from.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_snapshots.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(Text)  # why a correction was made

    __table_args__ = (UniqueConstraint("unit_id", "period", "version"),)


class Reminder(Base):
    """Who reminded whom about which course, when: the audit log of reminders."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    course_code: Mapped[str] = mapped_column(String(40))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recipients: Mapped[int]  # people notified in the app
    emailed: Mapped[int]  # of those, e-mails handed to the SMTP server
    message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_reminders_unit_id_sent_at", "unit_id", "sent_at"),)


class Notification(Base):
    """An in-app message to one user (a reminder, a summary for a unit head)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))  # reminder | reminder_summary
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(255))  # a path inside the app
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)
