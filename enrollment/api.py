"""/api/v1 learner routes: enrol, read lessons, take quizzes. Same services as the pages."""

from __future__ import annotations

from flask_login import login_required

from enrollment import attempts, queries, service
from enrollment.schemas import (
    AnswerIn,
    AttemptOut,
    LessonOut,
    ProgressOut,
    SavedAnswerOut,
    SubmitIn,
)
from enrollment.views_model import attempt_view
from lms.api import Blueprint
from lms.db import needs_write_lock
from lms.security import acting_user as _user

blp = Blueprint("enrollment_api", __name__, url_prefix="/api/v1",
                description="A learner's courses, lessons and quiz attempts")



@blp.post("/courses/<code>/enrollment")
@login_required
@blp.response(200, ProgressOut)
def enroll(code):
    """Start (or continue) a course: the latest version, or the one already started."""
    return queries.progress_view(service.enroll(_user(), code))


@blp.get("/courses/<code>/progress")
@login_required
@blp.response(200, ProgressOut)
def progress(code):
    return queries.progress_view(service.require_enrollment(_user(), code))


@blp.get("/courses/<code>/lessons/<slug>")
@login_required
@blp.response(200, LessonOut)
def lesson(code, slug):
    """The lesson; opening it starts its reading clock on the server."""
    needs_write_lock()
    enrollment = service.require_enrollment(_user(), code)
    return queries.lesson_view(enrollment, service.lesson_in(enrollment, slug))


@blp.post("/courses/<code>/lessons/<slug>/read")
@login_required
@blp.response(200, LessonOut)
@blp.alt_response(409, response="CONFLICT")
def mark_read(code, slug):
    """Counts only after the lesson's minimum time (409 with seconds_left before)."""
    enrollment = service.require_enrollment(_user(), code)
    item = service.lesson_in(enrollment, slug)
    service.mark_read(enrollment, item)
    return queries.lesson_view(enrollment, item)


@blp.post("/courses/<code>/attempts")
@login_required
@blp.response(200, AttemptOut)
@blp.alt_response(409, response="CONFLICT")
def start_attempt(code):
    """The running attempt, or a new one (409 when lessons are unread or none are left)."""
    return attempt_view(attempts.start(_user(), service.require_enrollment(_user(), code)))


@blp.get("/attempts/<int:attempt_id>")
@login_required
@blp.response(200, AttemptOut)
def get_attempt(attempt_id):
    needs_write_lock()  # a late attempt is graded on sight
    return attempt_view(attempts.expire_if_late(attempts.get_attempt(_user(), attempt_id)))


@blp.put("/attempts/<int:attempt_id>/answers/<int:position>")
@login_required
@blp.arguments(AnswerIn)
@blp.response(200, SavedAnswerOut)
@blp.alt_response(409, response="CONFLICT")
def save_answer(data, attempt_id, position):
    """Autosave one answer while the attempt runs; answers with just that answer (the page
    saves on every change, so the whole attempt is not sent back each time)."""
    attempt = attempts.save_answer(_user(), attempt_id, position, data["selected"])
    return next(slot for slot in attempt.questions if slot.position == position)


@blp.post("/attempts/<int:attempt_id>/submit")
@login_required
@blp.arguments(SubmitIn)
@blp.response(200, AttemptOut)
@blp.alt_response(409, response="CONFLICT")
def submit(data, attempt_id):
    """Grade once; the same idempotency_key returns the first result."""
    return attempt_view(attempts.submit(_user(), attempt_id, data["answers"],
                                        data["idempotency_key"]))
