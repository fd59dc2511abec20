"""Role grants are scoped: only strictly below one's unit, never above one's own role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lms.people.models import Role
from lms.units.queries import find_unit_by_code
from tests.support.factories import csrf_headers, login


@pytest.fixture
def tree(make):
    province = find_unit_by_code("08")
    commune = find_unit_by_code("00691")
    school = make.unit("school", commune, code="PPL-S")
    klass = make.unit("class", school, code="PPL-S-6A")
    other_school = make.unit("school", "00694", code="PPL-T")
    return {"province": province, "commune": commune, "school": school, "class": klass,
            "other": other_school,
            "officer": make.person(Role.OFFICER, province),
            "commune_officer": make.person(Role.OFFICER, commune),
            "admin": make.person(Role.UNIT_ADMIN, school)}


def grant(client, **body):
    return client.post("/api/v1/role-grants", json=body, headers=csrf_headers(client))


def test_officer_grants_below_their_unit(client, tree, make):
    login(client, tree["officer"])
    newcomer = make.person(Role.LEARNER, tree["class"])
    response = grant(client, user_id=newcomer.id, role="unit_admin", unit_code="PPL-S")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["unit_code"] == "PPL-S"
    # an officer may grant another officer strictly below: the commune
    assert grant(client, user_id=newcomer.id, role="officer",
                 unit_code="00691").status_code == 201


def test_nobody_grants_above_their_own_role_or_at_their_own_unit(client, tree, make):
    login(client, tree["admin"])
    learner = make.person(Role.LEARNER, tree["class"])
    refused = grant(client, user_id=learner.id, role="officer", unit_code="PPL-S-6A")
    assert refused.status_code == 422 and "role" in refused.get_json()["errors"]
    assert grant(client, user_id=learner.id, role="unit_admin",
                 unit_code="PPL-S").status_code == 422  # own unit: not below it
    assert grant(client, user_id=learner.id, role="unit_admin",
                 unit_code="PPL-S-6A").status_code == 201
    login(client, tree["commune_officer"])
    assert grant(client, user_id=learner.id, role="system_admin",
                 unit_code="BGDDT").status_code in (404, 422)


def test_grants_outside_scope_do_not_exist(client, tree, make):
    login(client, tree["admin"])
    stranger = make.person(Role.LEARNER, make.unit("class", tree["other"]))
    assert grant(client, user_id=stranger.id, role="learner",
                 unit_code="PPL-S-6A").status_code == 404  # user invisible
    learner = make.person(Role.LEARNER, tree["class"])
    assert grant(client, user_id=learner.id, role="learner",
                 unit_code="PPL-T").status_code == 404  # unit invisible


def test_grant_by_personal_id_in_the_body_only(client, tree, make):
    person = make.user("Hà Thị Nguyệt", personal_id="008305001234")
    login(client, tree["admin"])
    response = grant(client, personal_id="008305001234", role="learner",
                     unit_code="PPL-S-6A")
    assert response.status_code == 201
    assert response.get_json()["user_id"] == person.id
    assert "008305001234" not in response.text
    listed = client.get("/api/v1/users?unit=PPL-S").get_json()["items"]
    assert {"full_name": "Hà Thị Nguyệt", "personal_id_masked": "0083****1234"}.items() <= \
        next(u for u in listed if u["id"] == person.id).items()
    unknown = grant(client, personal_id="008305009999", role="learner", unit_code="PPL-S-6A")
    assert unknown.status_code == 404


def test_expiry_must_be_in_the_future_and_expired_grants_stop(client, tree, make, db):
    login(client, tree["admin"])
    learner = make.person(Role.LEARNER, tree["class"])
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert grant(client, user_id=learner.id, role="unit_admin", unit_code="PPL-S-6A",
                 expires_at=past).status_code == 422
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    ok = grant(client, user_id=learner.id, role="unit_admin", unit_code="PPL-S-6A",
               expires_at=soon)
    assert ok.status_code == 201
    from lms.people.models import RoleGrant

    db.get(RoleGrant, ok.get_json()["id"]).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.flush()
    login(client, learner)
    assert [g["role"] for g in client.get("/api/v1/me").get_json()["grants"]] == ["learner"]


def test_revoke_and_list(client, tree, make):
    login(client, tree["officer"])
    learner = make.person(Role.LEARNER, tree["class"])
    created = grant(client, user_id=learner.id, role="unit_admin", unit_code="PPL-S-6A")
    grant_id = created.get_json()["id"]
    listed = client.get("/api/v1/role-grants?unit=PPL-S-6A").get_json()
    assert grant_id in {g["id"] for g in listed["items"]}
    deleted = client.delete(f"/api/v1/role-grants/{grant_id}", headers=csrf_headers(client))
    assert deleted.status_code == 204
    listed = client.get("/api/v1/role-grants?unit=PPL-S-6A").get_json()
    assert grant_id not in {g["id"] for g in listed["items"]}


def test_unknown_fields_are_refused(client, tree, make):
    login(client, tree["officer"])
    learner = make.person(Role.LEARNER, tree["class"])
    response = grant(client, user_id=learner.id, role="learner", unit_code="PPL-S-6A",
                     is_superuser=True)
    assert response.status_code == 422
    assert "is_superuser" in response.get_json()["errors"]


def test_disable_from_the_command_line_ends_sessions(app, client, make):
    user = make.person(Role.LEARNER, make.unit("school", "00070"))
    login(client, user)
    assert client.get("/api/v1/me").status_code == 200
    runner = app.test_cli_runner()
    assert runner.invoke(args=["people", "disable", "--user-id", str(user.id)]).exit_code == 0
    assert client.get("/api/v1/me").status_code == 401
    missing = runner.invoke(args=["people", "disable", "--user-id", "999999"])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_no_account_oracle_for_those_who_may_not_grant(client, tree, make):
    make.user("Có tài khoản", personal_id="008305001234")
    learner = make.person(Role.LEARNER, tree["class"])
    login(client, learner)
    known = grant(client, personal_id="008305001234", role="learner", unit_code="PPL-S-6A")
    unknown = grant(client, personal_id="008305009999", role="learner", unit_code="PPL-S-6A")
    assert known.status_code == unknown.status_code == 422
    assert known.get_json() == unknown.get_json()
