"""HTML pages for learners under /learn: the catalogue, a course, its lessons and the quiz.
Thin views over the same services, queries and schemas as enrollment/api.py."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from courses import queries as course_queries
from enrollment import attempts, queries, service
from enrollment.schemas import SubmitIn
from enrollment.views_model import attempt_view
from lms.db import needs_write_lock
from lms.errors import InvalidState
from lms.i18n import localized
from lms.security import acting_user as _user

bp = Blueprint("learn", __name__, url_prefix="/learn", template_folder="templates")



@bp.get("/")
@login_required
def catalogue():
    user = _user()
    started = queries.started_codes(user)
    courses = [{"code": c.code, "title": localized(c.title_vi, c.title_en),
                "description": localized(c.description_vi, c.description_en),
                "estimated_minutes": c.estimated_minutes, "started": c.code in started}
               for c in course_queries.latest_courses(course_queries.audiences_of(user))]
    return render_template("enrollment/catalogue.html", courses=courses)


@bp.post("/<code>/start")
@login_required
def start(code: str):
    service.enroll(_user(), code)  # NotFound for an unknown or hidden course
    return redirect(url_for("learn.course", code=code), 303)


def _quiz_state(course, progress: dict) -> dict:
    """Whether the quiz form is offered, and why not (the service decides again on POST)."""
    quiz, history = course.quiz, progress["attempts"]
    if quiz is None:
        return {"offered": False, "reason": None, "resume": False}
    resume = any(a["state"] == "in_progress" for a in history)
    reason = None
    if any(a["passed"] for a in history):
        reason = _("You have already passed this quiz.")
    elif not resume and quiz.attempts_allowed and len(history) >= quiz.attempts_allowed:
        reason = _("No attempts left.")
    elif not resume and quiz.requires_all_lessons and (
            progress["lessons_read"] < len(progress["lessons"])):
        reason = _("Read every lesson before the quiz.")
    return {"offered": reason is None, "reason": reason, "resume": resume,
            "attempts_allowed": quiz.attempts_allowed, "pass_mark": quiz.pass_mark}


@bp.get("/<code>")
@login_required
def course(code: str):
    enrollment, outline = queries.learner_course(_user(), code)
    progress = queries.progress_view(enrollment, outline)
    by_slug = {item["slug"]: item for item in progress["lessons"]}
    modules = [{"title": localized(m.title_vi, m.title_en),
                "lessons": [by_slug[lesson.slug] for lesson in m.lessons]}
               for m in outline.modules]
    return render_template("enrollment/course.html", progress=progress, modules=modules,
                           quiz=_quiz_state(outline, progress))


@bp.get("/<code>/lessons/<slug>")
@login_required
def lesson(code: str, slug: str):
    """Opening the page starts the lesson's reading clock on the server."""
    needs_write_lock()  # a GET that writes (the clock; SQLite must lock up front)
    enrollment, outline = queries.learner_course(_user(), code)
    view = queries.lesson_view(enrollment, queries.lesson_of(outline, slug), outline)
    return render_template("enrollment/lesson.html", code=code, lesson=view,
                           course_title=localized(outline.title_vi, outline.title_en))


@bp.post("/<code>/lessons/<slug>/read")
@login_required
def mark_read(code: str, slug: str):
    """Too early (409 in the API): back to the same lesson with the seconds left."""
    enrollment = service.require_enrollment(_user(), code)
    try:
        service.mark_read(enrollment, service.lesson_in(enrollment, slug))
    except InvalidState as exc:
        flash(exc.message, "error")
    else:
        flash(_("Lesson marked as read."), "success")
    return redirect(url_for("learn.lesson", code=code, slug=slug), 303)


@bp.post("/<code>/quiz")
@login_required
def take_quiz(code: str):
    enrollment = service.require_enrollment(_user(), code)
    try:
        attempt = attempts.start(_user(), enrollment)
    except InvalidState as exc:
        flash(exc.message, "error")
        return redirect(url_for("learn.course", code=code), 303)
    return redirect(url_for("learn.attempt", attempt_id=attempt.id), 303)


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    """The quiz while it runs (no right answers in the page), its result once closed."""
    needs_write_lock()  # a late attempt is graded on sight
    row = attempts.expire_if_late(attempts.get_attempt(_user(), attempt_id))
    view = attempt_view(row)
    quiz = course_queries.get_quiz(row.quiz_id)
    loaded = course_queries.outline(quiz.course_id)
    return render_template("enrollment/attempt.html", attempt=view, code=loaded.code,
                           course_title=localized(loaded.title_vi, loaded.title_en),
                           quiz_title=localized(quiz.title_vi, quiz.title_en),
                           idempotency_key=secrets.token_urlsafe(18))


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    """Form fields q<position> (option ids) for each position listed in `positions`; a
    question left blank is sent as no answer. The same idempotency_key returns the first
    result."""
    positions = [p for p in request.form.getlist("positions") if p.isdigit()]
    data = SubmitIn().load({"idempotency_key": request.form.get("idempotency_key", ""),
                            "answers": {p: request.form.getlist(f"q{p}") for p in positions}})
    try:
        attempts.submit(_user(), attempt_id, data["answers"], data["idempotency_key"])
    except InvalidState as exc:
        flash(exc.message, "error")
    return redirect(url_for("learn.attempt", attempt_id=attempt_id), 303)
