"""Course content: a course version with its modules, lessons, final quiz and question pool.
Each import of a higher version adds rows; learners keep the version they started."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UtcDateTime, str_enum, utcnow


class Audience(enum.StrEnum):
    STUDENTS = "students"
    PUBLIC_SERVANTS = "public_servants"
    EVERYONE = "everyone"


class QuestionType(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class AnswerRelease(enum.StrEnum):
    AFTER_CLOSE = "after_close"  # when the attempt is graded
    AFTER_PASS = "after_pass"  # noqa: S105 (not a password) only once the learner has passed
    NEVER = "never"


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "audience"))
    estimated_minutes: Mapped[int]
    is_published: Mapped[bool] = mapped_column(default=True)
    package_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the imported folder
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    modules: Mapped[list[Module]] = relationship(order_by="Module.position", lazy="raise",
                                                 cascade="all, delete-orphan")
    quiz: Mapped[Quiz | None] = relationship(lazy="raise", cascade="all, delete-orphan",
                                             uselist=False)
    assets: Mapped[list[CourseAsset]] = relationship(lazy="raise", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("code", "version"),
                      CheckConstraint("version > 0", name="version_positive"))


class Module(Base):
    __tablename__ = "course_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    position: Mapped[int]
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))

    lessons: Mapped[list[Lesson]] = relationship(order_by="Lesson.position", lazy="raise",
                                                 cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("course_id", "position"),)


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"))
    position: Mapped[int]  # across the whole course, 1-based: next/previous follow it
    slug: Mapped[str] = mapped_column(String(80))
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    # Authored Markdown (kept for export) and its sanitised HTML (what pages show).
    source_vi: Mapped[str] = mapped_column(Text)
    source_en: Mapped[str | None] = mapped_column(Text)
    html_vi: Mapped[str] = mapped_column(Text)
    html_en: Mapped[str | None] = mapped_column(Text)
    min_seconds: Mapped[int]
    video_url: Mapped[str | None] = mapped_column(String(500))

    course: Mapped[Course] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("course_id", "slug"),
                      UniqueConstraint("course_id", "position"),
                      CheckConstraint("min_seconds >= 0", name="min_seconds_not_negative"))


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           unique=True)
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    pass_mark: Mapped[int]  # percent
    questions_per_attempt: Mapped[int]
    attempts_allowed: Mapped[int]  # 0 = unlimited
    time_limit_seconds: Mapped[int]  # 0 = none
    shuffle_questions: Mapped[bool]
    shuffle_options: Mapped[bool]
    show_answers: Mapped[AnswerRelease] = mapped_column(str_enum(AnswerRelease, "answer_release"))
    requires_all_lessons: Mapped[bool]

    questions: Mapped[list[Question]] = relationship(order_by="Question.position", lazy="raise",
                                                     cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_percent"),
        CheckConstraint("questions_per_attempt > 0", name="draws_questions"),
    )


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))  # the package's id, e.g. "q07"
    position: Mapped[int]
    type: Mapped[QuestionType] = mapped_column(str_enum(QuestionType, "question_type"))
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    explanation_vi: Mapped[str] = mapped_column(Text, default="")
    explanation_en: Mapped[str | None] = mapped_column(Text)
    always_included: Mapped[bool] = mapped_column(default=False)

    options: Mapped[list[Option]] = relationship(order_by="Option.position", lazy="raise",
                                                 cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("quiz_id", "key"),)


class Option(Base):
    __tablename__ = "question_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(20))
    position: Mapped[int]
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    is_correct: Mapped[bool]

    __table_args__ = (UniqueConstraint("question_id", "key"),)


class CourseAsset(Base):
    """An image of a course package, served from our own origin (no external fetches)."""

    __tablename__ = "course_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(200))  # "images/bien-cam.svg"
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("course_id", "path"),)
