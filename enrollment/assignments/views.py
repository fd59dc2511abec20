"""HTML pages for assignments: a unit's required courses with the form that adds them
(officers and unit admins; 404 otherwise) and the learner's assigned courses."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from courses import queries as course_queries
from courses.models import Audience
from enrollment.assignments import queries, service
from enrollment.assignments.api import writes
from enrollment.assignments.schemas import AssignmentIn
from lms.errors import Conflict, ValidationFailed, field_errors
from lms.i18n import localized
from lms.security import acting_user as _user

bp = Blueprint("assignments", __name__, template_folder="../templates")
FORM_FIELDS = ("audience", "start_on", "due_on")



def audience_labels() -> dict[str, str]:
    return {Audience.STUDENTS.value: _("Students"),
            Audience.PUBLIC_SERVANTS.value: _("Public servants"),
            Audience.EVERYONE.value: _("Everyone")}


@bp.get("/units/<code>/assignments")
@login_required
def unit_assignments(code: str):
    unit = queries.get_managed_unit(_user(), code)  # out of scope: 404
    courses = [{"code": c.code, "title": localized(c.title_vi, c.title_en)}
               for c in course_queries.latest_courses(set(Audience))]
    audiences = {value: label for value, label in audience_labels().items()
                 if queries.audience_fits(Audience(value), unit.kind)}
    return render_template("enrollment/assignments_unit.html", unit=unit,
                           assignments=queries.assignments_for_unit(_user(), unit),
                           courses=courses, audiences=audiences,
                           audience_labels=audience_labels())


@bp.post("/units/<code>/assignments")
@login_required
def create(code: str):
    queries.get_managed_unit(_user(), code)  # 404 before the form is read
    form = {key: request.form.get(key, "") for key in FORM_FIELDS}
    try:
        data = AssignmentIn().load({**form, "unit_code": code,
                                    "course_codes": request.form.getlist("course_codes")})
        service.create_assignment(_user(), **data)
    except (ValidationError, ValidationFailed, Conflict) as exc:
        flash(_("The assignment was not saved."), "error")
        for field, messages in field_errors(exc).items():
            flash(f"{field}: {'; '.join(map(str, messages))}", "error")
        return redirect(url_for("assignments.unit_assignments", code=code), 303)
    flash(_("The courses were assigned."), "success")
    return redirect(url_for("assignments.unit_assignments", code=code), 303)


@bp.get("/learn/assignments")
@writes
@login_required
def mine():
    """Opening the page enrols the learner in every assigned course not yet started."""
    items = queries.assignments_for_learner(_user())
    # enroll_assigned reads the same list and skips what is started: ask it only when some
    # course may need it (the usual visit, everything started, reads the list once).
    if any(item["state"] in ("not_started", "overdue") for item in items):
        service.enroll_assigned(_user())
        items = queries.assignments_for_learner(_user())
    states = {"not_started": _("Not started"), "in_progress": _("In progress"),
              "completed": _("Completed"), "overdue": _("Overdue")}
    return render_template("enrollment/assignments_learner.html", items=items, states=states)
