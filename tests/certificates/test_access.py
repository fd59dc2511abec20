"""A certificate's PDF and details are its learner's and its unit admins' only: another
learner, an admin of another school and anonymous users get 404, by serial or by code."""

from __future__ import annotations

from lms.people.models import Role
from tests.support.factories import login


def test_only_the_learner_and_admins_in_scope_may_open_a_certificate(
        db, app, client, complete, make, school):
    # (the client fixture makes app.test_client() open each request in its own context)
    owner, _e, cert = complete()
    other, _e2, _other_cert = complete("Trần Văn Khác")
    other_school = make.unit("school", "00070", code="CERT-OTHER")
    outsider_admin = make.person(Role.UNIT_ADMIN, other_school)
    own_admin = make.person(Role.UNIT_ADMIN, school[0])
    refs = (cert.serial, cert.code, cert.code.upper())
    paths = [f"/certificates/{r}/pdf" for r in refs] + [f"/api/v1/certificates/{r}"
                                                       for r in refs]
    for user, expected in ((None, 404), (other, 404), (outsider_admin, 404), (owner, 200),
                           (own_admin, 200)):
        client = app.test_client()
        if user is not None:
            login(client, user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == expected, (user and user.full_name, path)
            if expected == 404 and path.startswith("/api/"):
                assert response.get_json()["code"] == "not_found"
    # a well-formed serial of the right number but another year is not the certificate
    year = int(cert.serial.split("-")[1])
    client = app.test_client()
    login(client, owner)
    wrong = cert.serial.replace(f"-{year}-", f"-{year - 1}-")
    assert client.get(f"/certificates/{wrong}/pdf").status_code == 404


def test_my_certificates_lists_only_mine(db, client, complete):
    owner, _e, cert = complete()
    _other, _e2, other_cert = complete("Trần Văn Khác")
    login(client, owner)
    page = client.get("/certificates").get_data(as_text=True)
    assert cert.serial in page and other_cert.serial not in page
    items = client.get("/api/v1/me/certificates").get_json()["items"]
    assert [i["serial"] for i in items] == [cert.serial]
    assert "personal_id" not in items[0] and items[0]["state"] == "valid"


def test_unit_list_is_scoped(db, client, complete, make, school):
    _owner, _e, cert = complete()
    admin = make.person(Role.UNIT_ADMIN, school[0])
    login(client, admin)
    body = client.get(f"/api/v1/units/{school[0].code}/certificates").get_json()
    assert [i["serial"] for i in body["items"]] == [cert.serial]
    assert body["meta"]["total"] == 1
    learner_view = make.person(Role.LEARNER, school[1])
    login(client, learner_view)
    assert client.get(f"/units/{school[0].code}/certificates").status_code == 404
