"""An assignment: a course every expected person of a unit subtree and audience must complete
between a start and a due date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from courses.models import Audience
from lms.db import Base, UtcDateTime, str_enum, utcnow


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    course_code: Mapped[str] = mapped_column(String(40))  # any version of the course counts
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "assignment_audience"))
    start_on: Mapped[date]
    due_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (CheckConstraint("due_on >= start_on", name="due_after_start"),
                      Index("ix_assignments_unit_id", "unit_id"))
