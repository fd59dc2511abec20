"""User (keyed by issuer + subject) and RoleGrant (user, role, unit, granted_by, expires_at).
The 12-digit personal ID is held only as a keyed hash and a masked form (DESIGN.md)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UtcDateTime, str_enum, utcnow
from lms.units.models import Unit


class Role(enum.StrEnum):
    LEARNER = "learner"
    UNIT_ADMIN = "unit_admin"
    OFFICER = "officer"
    SYSTEM_ADMIN = "system_admin"



class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_on: Mapped[date | None]
    # HMAC-SHA256 of the personal ID under the PII key: lookup without the number itself.
    personal_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    personal_id_masked: Mapped[str | None] = mapped_column(String(12))
    # A verified e-mail address from the identity provider, for reminders when SMTP is set up.
    email: Mapped[str | None] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", foreign_keys="RoleGrant.user_id", lazy="raise")

    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    # Set when the user is loaded from (or signs in with) a server-side session: Flask-Login
    # keeps this token in the cookie, and the session's assurance level limits which roles
    # count (lms.policy).
    session_token = None
    session_level = 0

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("sign in through lms.auth.service.open_session")
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleGrant(Base):
    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role", 16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id],
                                      lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("user_id", "role", "unit_id"),
        Index("ix_role_grants_unit_id_role", "unit_id", "role"),
    )

    def is_current(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)
