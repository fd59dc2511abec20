"""Job: one piece of background work (an import, an export), its requester, state and result.
The id is a random token, never a sequence: it appears in URLs (/jobs/<id>)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UtcDateTime, str_enum, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def new_job_id() -> str:
    return secrets.token_urlsafe(24)  # 32 URL-safe characters, 192 random bits


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(43), primary_key=True, default=new_job_id)
    kind: Mapped[str] = mapped_column(String(60))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"),
                                              default=JobStatus.QUEUED)
    # The requester's language: messages and file headers a job writes come out in it.
    locale: Mapped[str] = mapped_column(String(10), default="vi")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"file": storage key, "filename", "content_type", "rows", ...}; the key never leaves us.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # For the requester's eyes: an LmsError's message or a generic text, never a traceback.
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int | None]  # percent, when the job reports it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The deadline of the current state (lms/jobs/recovery.py): queued, when it is sent again;
    # running, its lease (renewed by heartbeats); finished, the end of the download.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_jobs_requested_by_id_created_at", "requested_by_id",
                            "created_at"),)

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    def is_expired(self, at: datetime) -> bool:
        """The download of a finished job has expired."""
        return self.is_finished and self.expires_at is not None and self.expires_at <= at

    def __repr__(self) -> str:
        return f"<Job {self.kind} {self.status.value}>"
