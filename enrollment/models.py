"""A learner's enrolment in one course version, what they read (timed on the server) and their
quiz attempts with the questions and option order drawn for each."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UtcDateTime, str_enum, utcnow


class AttemptState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    GRADED = "graded"  # submitted and graded in one transaction
    ABANDONED = "abandoned"  # time ran out before a submit; graded on what was saved



class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set when a completion was revoked (a revoked certificate): completed_at is cleared and
    # only quiz attempts started after this moment can complete the course again.
    completion_revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("user_id", "course_id"),)


class LessonProgress(Base):
    """When the learner opened a lesson and when it counted as read (after min_seconds, by
    the server clock). Seconds on task are kept to spot suspiciously fast completions."""

    __tablename__ = "lesson_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    first_opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    seconds_on_task: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)


class Attempt(Base):
    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"))
    number: Mapped[int]
    state: Mapped[AttemptState] = mapped_column(str_enum(AttemptState, "attempt_state"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The key of the submit that closed it: a retried POST returns the same result.
    submit_key: Mapped[str | None] = mapped_column(String(64))
    correct: Mapped[int | None]
    total: Mapped[int]
    score_percent: Mapped[int | None]
    passed: Mapped[bool | None]

    questions: Mapped[list[AttemptQuestion]] = relationship(
        order_by="AttemptQuestion.position", lazy="raise", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number"),  # DESIGN.md: one number per attempt
        Index("ix_quiz_attempts_enrollment_id", "enrollment_id"),
    )


class AttemptQuestion(Base):
    """A question drawn for an attempt, the option order shown, and the answer saved."""

    __tablename__ = "attempt_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    position: Mapped[int]
    option_order: Mapped[list[int]] = mapped_column(JSON)  # option ids as shown
    selected: Mapped[list[int]] = mapped_column(JSON, default=list)
    saved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_correct: Mapped[bool | None]

    __table_args__ = (UniqueConstraint("attempt_id", "position"),
                      UniqueConstraint("attempt_id", "question_id"))
