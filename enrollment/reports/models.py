"""Completion counters: per leaf unit (a class or department) and course code, kept exact in
the transaction of every change, so that a province's dashboard sums a few thousand rows
instead of grouping a million enrolments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, path_string
from lms.units.models import PATH_MAX


class CompletionCounter(Base):
    __tablename__ = "completion_counters"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True)
    course_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The unit's path, copied so that a roll-up is one range scan (paths never change).
    unit_path: Mapped[str] = mapped_column(path_string(PATH_MAX))
    expected: Mapped[int]  # active roster entries the course is assigned to
    completed: Mapped[int]  # of those, whose current enrolment is complete
    started: Mapped[int]  # of those, enrolled and not complete
    exempt: Mapped[int]  # exempt entries (outside the denominator)
    due_on: Mapped[date]  # the earliest due date of the assignments covering the unit

    __table_args__ = (Index("ix_completion_counters_unit_path", "unit_path"),)
