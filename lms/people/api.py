"""/api/v1/me, /api/v1/users and /api/v1/role-grants, scoped by the policy."""

from __future__ import annotations

from flask_login import login_required
from flask_wtf.csrf import generate_csrf

from lms.api import Blueprint, list_schema, paginate
from lms.people import queries, service
from lms.people.schemas import (
    CsrfSchema,
    GrantCreateSchema,
    GrantQuerySchema,
    GrantSchema,
    MeSchema,
    UserQuerySchema,
    UserSchema,
)
from lms.security import acting_user as _user
from lms.units import queries as unit_queries

blp = Blueprint("people_api", __name__, url_prefix="/api/v1",
                description="The signed-in user, people in scope, role grants")



@blp.get("/me")
@login_required
@blp.response(200, MeSchema)
def me():
    """The signed-in user and their current grants; 401 when nobody is signed in."""
    user = _user()
    fields = {name: getattr(user, name) for name in UserSchema().fields}
    return {**fields, "grants": queries.current_grants(user), "level": user.session_level}


@blp.get("/csrf-token")
@blp.response(200, CsrfSchema)
def csrf_token():
    """Token for the X-CSRFToken header of state-changing API calls made with the session."""
    return {"csrf_token": generate_csrf()}


@blp.get("/users")
@login_required
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, list_schema(UserSchema))
def list_users(args):
    """People holding a role in the unit's subtree, if the caller may see them."""
    unit = unit_queries.get_unit(args["unit"], _user())
    return paginate(queries.people_under(_user(), unit), args["page"], args["per_page"])


@blp.get("/users/<int:user_id>")
@login_required
@blp.response(200, UserSchema)
def get_user(user_id):
    return queries.get_user(_user(), user_id)


@blp.get("/role-grants")
@login_required
@blp.arguments(GrantQuerySchema, location="query")
@blp.response(200, list_schema(GrantSchema))
def list_grants(args):
    unit = unit_queries.get_unit(args["unit"], _user())
    return paginate(queries.grants_on(_user(), unit), args["page"], args["per_page"])


@blp.post("/role-grants")
@login_required
@blp.arguments(GrantCreateSchema)
@blp.response(201, GrantSchema)
def create_grant(data):
    """Grant a role strictly below one of the caller's units, never above the caller's role."""
    return service.grant_role(_user(), **data)


@blp.delete("/role-grants/<int:grant_id>")
@login_required
@blp.response(204)
def revoke_grant(grant_id):
    service.revoke_grant(_user(), grant_id)
