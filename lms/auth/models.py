"""Server-side sign-in sessions: the browser cookie carries a random token whose hash is a row
here, so logout, disabling and role changes take effect on the next request."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UtcDateTime, utcnow


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Identity assurance level reached at sign-in (VNeID level 1 or 2; local accounts 1).
    level: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DevCitizen(Base):
    """The development identity provider's own register of (synthetic) citizens: it stands in
    for VNeID's database, so it keeps the number in clear. Never used in production."""

    __tablename__ = "dev_idp_citizens"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_on: Mapped[date]
    personal_id: Mapped[str] = mapped_column(String(12), unique=True)
    level: Mapped[int] = mapped_column(default=2)
    # A hint shown on the picker page ("Officer, Tuyên Quang"); not a claim.
    description: Mapped[str] = mapped_column(String(200), default="")


class DevAuthorizationCode(Base):
    """Authorization codes of the development provider: single use, short-lived."""

    __tablename__ = "dev_idp_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(100))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str | None] = mapped_column(String(255))
    level: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_dev_idp_codes_expires_at", "expires_at"),)


class LocalAccount(Base):
    """A school-issued account for a student without VNeID: a username and a one-time code on a
    printable class sheet, replaced by the student's own password at first sign-in. A later
    VNeID sign-in with the same personal ID takes the account over (lms.auth.service)."""

    __tablename__ = "local_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    must_change: Mapped[bool] = mapped_column(default=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
