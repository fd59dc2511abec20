"""Test factories that write through the real services."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from lms.people import service as people
from lms.people.models import Role, RoleGrant, User
from lms.units import queries as unit_queries
from lms.units import service as units
from lms.units.models import Unit, UnitKind


class Factories:
    def __init__(self, session, serial):
        self.session = session
        self.serial = serial

    def unit(self, kind: UnitKind | str, parent: Unit | str, code: str | None = None,
             name: str | None = None) -> Unit:
        kind = UnitKind(kind)
        if isinstance(parent, str):
            parent = unit_queries.find_unit_by_code(parent)
        n = next(self.serial)
        unit = units.new_unit(code or f"T-{kind.value[:3].upper()}-{n}",
                              name or f"Test {kind.value} {n}", kind, parent)
        self.session.flush()
        return unit

    def user(self, name: str = "Nguyễn Văn An", personal_id: str | None = None,
             birth_on: date | None = None) -> User:
        n = next(self.serial)
        user = people.new_user(issuer="https://idp.test", subject=f"sub-{n}", full_name=name,
                               birth_on=birth_on, personal_id=personal_id)
        self.session.flush()
        user.session_level = 2  # as if signed in at VNeID level 2, for direct service calls
        return user

    def grant(self, user: User, role: Role | str, unit: Unit) -> RoleGrant:
        return people.grant_role(None, role=Role(role), unit_code=unit.code, user_id=user.id)

    def person(self, role: Role | str, unit: Unit, name: str = "Trần Thị Bình") -> User:
        user = self.user(name)
        self.grant(user, role, unit)
        return user


def login(client: FlaskClient, user: User, level: int = 2) -> str:
    """Open a real server-side session (as a sign-in does) and put its token in the cookie the
    way Flask-Login does. Returns the token."""
    from lms.auth.service import open_session

    token = open_session(user, level)
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return token


def signed_in_client(app, user_id: int, level: int = 2) -> FlaskClient:
    """A test client of app with a real session of the user, for tests that commit (their own
    app and database, outside the rolled-back `db` fixture)."""
    from lms.auth.service import open_session
    from lms.db import session, transaction

    with app.app_context(), transaction():
        token = open_session(session.get(User, user_id), level)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = token
        cookie["_fresh"] = True
    return client


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    return {"X-CSRFToken": token}
