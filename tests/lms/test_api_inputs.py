"""Regressions found by the API contract test (tests/lms/test_api_contract.py): inputs the
database cannot hold (ids past PostgreSQL's integer, NUL characters) are a 404 or a 422 in
the one error shape, never a 500; a whole-body error keeps `errors` an object."""

from __future__ import annotations

import pytest

from lms.people.models import Role
from tests.support.factories import csrf_headers, login

HUGE = 9052564590264096  # > 2**31 - 1, the largest id PostgreSQL's integer holds


@pytest.fixture
def signed_in(client, make):
    school = make.unit("school", "00691", code="IN-S")
    login(client, make.person(Role.UNIT_ADMIN, school))
    return csrf_headers(client)


@pytest.mark.parametrize(("method", "url"), [
    ("GET", f"/api/v1/users/{HUGE}"),
    ("DELETE", f"/api/v1/role-grants/{HUGE}"),
    ("GET", f"/api/v1/attempts/{HUGE}"),
    ("PUT", f"/api/v1/roster-entries/{HUGE}/exemption"),
    ("POST", f"/api/v1/link-conflicts/{HUGE}/resolve"),
    ("GET", "/api/v1/units/IN%00S"),
])
def test_ids_past_the_database_integer_and_nul_in_paths_are_404(client, signed_in, method,
                                                                  url):
    response = client.open(url, method=method, headers=signed_in, json={})
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


@pytest.mark.parametrize(("method", "url", "body"), [
    ("POST", "/api/v1/role-grants", {"user_id": HUGE, "role": "learner", "unit_code": "IN-S"}),
    ("POST", "/api/v1/me/notifications/read", {"ids": [1, HUGE]}),
    ("PUT", "/api/v1/attempts/1/answers/1", {"selected": [HUGE]}),
    ("POST", "/api/v1/attempts/1/submit", {"idempotency_key": "k" * 8,
                                           "answers": {"1": [HUGE]}}),
    ("POST", "/api/v1/link-conflicts/1/resolve", {"user_id": HUGE}),
    ("POST", "/api/v1/role-grants", {"role": "learner", "unit_code": "IN\x00S"}),
])
def test_ids_past_the_database_integer_and_nul_in_bodies_are_422(client, signed_in, method,
                                                                  url, body):
    response = client.open(url, method=method, headers=signed_in, json=body)
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_failed"


def test_nul_in_a_query_is_422(client, signed_in):
    response = client.get("/api/v1/units?parent=00%0091")
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_failed"


def test_a_body_that_is_not_json_keeps_errors_an_object(client, signed_in):
    response = client.post("/api/v1/role-grants", data=b"\x00",
                           headers={**signed_in, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"_schema": ["Invalid JSON body."]}
