"""GET /api/v1/units/<code>/audit: a unit subtree's audit events, newest first (officers and
unit admins in scope; 404 otherwise). Same queries as views.py."""

from __future__ import annotations

from functools import wraps

from flask_login import login_required

from lms.api import Blueprint, list_schema, paginate
from lms.audit import queries
from lms.audit.schemas import AuditEventOut, AuditPageQuery
from lms.security import acting_user as _user

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1",
                description="The append-only audit log of a unit and the units below it")


def unit_first(view):
    """404 for a unit out of scope before the query is read: a request's validity must not
    tell who may see the unit."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        queries.get_audited_unit(_user(), kwargs["code"])
        return view(*args, **kwargs)
    return wrapper


@blp.get("/units/<code>/audit")
@login_required
@unit_first
@blp.arguments(AuditPageQuery, location="query")
@blp.response(200, list_schema(AuditEventOut))
def unit_audit(args, code):
    """Sign-ins, role changes, roster imports and exemptions, assignments, locks, exports and
    certificate changes in the unit's subtree; filter by action and local dates."""
    unit = queries.get_audited_unit(_user(), code)
    wanted = queries.AuditFilter(args["action"], args["since"], args["until"])
    page = paginate(queries.events(_user(), unit, wanted), args["page"], args["per_page"])
    return {**page, "items": queries.event_views(list(page["items"]))}
