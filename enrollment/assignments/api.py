"""/api/v1 assignments: a unit's required courses (officers and unit admins) and the
signed-in learner's own. Same services and queries as enrollment/assignments/views.py."""

from __future__ import annotations

from functools import wraps

from flask_login import login_required

from enrollment.assignments import queries, service
from enrollment.assignments.schemas import AssignmentIn, AssignmentOut, LearnerAssignmentOut
from lms.api import Blueprint, PageQuerySchema, list_schema, paginate
from lms.db import needs_write_lock
from lms.security import acting_user as _user

blp = Blueprint("assignments_api", __name__, url_prefix="/api/v1",
                description="Required courses of a unit, with start and due dates")
AssignmentList = list_schema(AssignmentOut)



def writes(view):
    """A GET that enrols: take SQLite's write lock before the first query (lms.db)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        needs_write_lock()
        return view(*args, **kwargs)
    return wrapper


@blp.get("/units/<code>/assignments")
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, AssignmentList)
def unit_assignments(args, code):
    """Active assignments of the unit and of the units above it (404 out of scope)."""
    unit = queries.get_viewed_unit(_user(), code)
    page = paginate(queries.unit_assignments(unit), args["page"], args["per_page"])
    return {**page, "items": queries.assignment_views(list(page["items"]), unit.id)}


@blp.post("/assignments")
@login_required
@blp.arguments(AssignmentIn)
@blp.response(201, AssignmentList)
@blp.alt_response(409, response="CONFLICT")
def create(data):
    """One assignment per course code (422 for a bad field, 409 when already assigned)."""
    rows = service.create_assignment(_user(), **data)
    return {"items": queries.assignment_views(rows, rows[0].unit_id),
            "meta": {"page": 1, "per_page": len(rows), "total": len(rows)}}


@blp.delete("/assignments/<int:assignment_id>")
@login_required
@blp.response(204)
def withdraw(assignment_id):
    """Withdraw: learners no longer see it (404 out of scope)."""
    service.withdraw_assignment(_user(), assignment_id)


@blp.get("/me/assignments")
@writes
@login_required
@blp.response(200, list_schema(LearnerAssignmentOut))
def my_assignments():
    """The signed-in learner's assigned courses; opening them enrols in those not started."""
    service.enroll_assigned(_user())
    items = queries.assignments_for_learner(_user())
    return {"items": items, "meta": {"page": 1, "per_page": len(items), "total": len(items)}}
