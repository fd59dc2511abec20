"""A certificate: a document of record frozen at issue. Corrections are new versions; a
revocation is a state, never a deletion (DESIGN.md)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UtcDateTime, str_enum, utcnow

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SERIAL_PREFIX = "BDHVS"  # Bình Dân Học Vụ Số


class CertificateState(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # replaced by a corrected version


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public verification code: 160 random bits (base32), unrelated to anything else.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The enrolment's completed_at this certificate attests: a completion gets exactly one
    # certificate of each version (the unique constraint below).
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(default=1)
    # Frozen at issue: what the document says, whatever changes later.
    full_name: Mapped[str] = mapped_column(String(200))  # NFC
    birth_on: Mapped[date | None]
    course_code: Mapped[str] = mapped_column(String(40))
    course_version: Mapped[int]
    course_title_vi: Mapped[str] = mapped_column(String(200))
    course_title_en: Mapped[str | None] = mapped_column(String(200))
    completed_on: Mapped[date]  # the completion's date in Asia/Ho_Chi_Minh
    # The school or agency the learner belonged to at issue (None: no roster, the platform).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    unit_path: Mapped[str | None] = mapped_column(String(512))  # for scope checks in SQL
    unit_name: Mapped[str | None] = mapped_column(String(200))
    unit_parent_name: Mapped[str] = mapped_column(String(200))  # the masthead's upper line
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[CertificateState] = mapped_column(
        str_enum(CertificateState, "certificate_state", 16), default=CertificateState.VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="RESTRICT"))
    # The PDF, rendered once on first request and kept (lms.storage, content-addressed).
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_signed: Mapped[bool | None]

    __table_args__ = (
        UniqueConstraint("enrollment_id", "completed_at", "version"),
        # At most one certificate of an enrolment is current, whatever races happen.
        Index("uq_certificates_current", "enrollment_id", unique=True,
              sqlite_where=text("state = 'valid'"), postgresql_where=text("state = 'valid'")),
        Index("ix_certificates_user_id", "user_id"),
        Index("ix_certificates_unit_path", "unit_path"),
    )

    @property
    def serial(self) -> str:
        """Readable by people and unique by construction: BDHVS-2026-0001234."""
        return serial_of(self.issued_at.astimezone(LOCAL_TZ).year, self.id)


def serial_of(year: int, number: int) -> str:
    return f"{SERIAL_PREFIX}-{year:04d}-{number:07d}"


def parse_serial(serial: str) -> tuple[int, int] | None:
    """(year, number) of a well-formed serial, else None."""
    parts = serial.strip().upper().split("-")
    if (len(parts) != 3 or parts[0] != SERIAL_PREFIX or len(parts[1]) != 4
            or not parts[1].isdigit() or not parts[2].isdigit() or len(parts[2]) > 12):
        return None
    return int(parts[1]), int(parts[2])
