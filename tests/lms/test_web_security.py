"""Security headers, CSRF, the one JSON error shape, HTML error pages in vi and en, request
IDs, no-store on personal data, and sessions the server can end."""

from __future__ import annotations

import logging

from lms.people.models import Role
from tests.support.factories import csrf_headers, login


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS
    assert b"<script" not in response.data


def test_hsts_only_over_tls(client):
    response = client.get("/", base_url="https://hocvuso.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_personal_pages_are_not_cached(client, make):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    assert client.get("/api/v1/units?kind=province").headers["Cache-Control"] == "no-store"
    login(client, make.person(Role.LEARNER, make.unit("school", "00070")))
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_api_errors_have_one_shape(client):
    body = client.get("/api/v1/units/NOPE").get_json()
    assert body == {"code": "not_found", "status": 404, "message": body["message"]}
    body = client.get("/api/v1/me").get_json()
    assert (body["code"], body["status"]) == ("unauthorized", 401)
    body = client.get("/api/v1/units?kind=planet").get_json()
    assert (body["code"], body["status"]) == ("validation_failed", 422)
    assert "kind" in body["errors"]
    body = client.get("/api/v1/units?surprise=1").get_json()
    assert body["status"] == 422 and "surprise" in body["errors"]
    assert client.get("/api/v1/nothing-here").get_json()["code"] == "not_found"


def test_html_errors_are_pages_in_the_chosen_language(client):
    vi = client.get("/units/NOPE")
    assert vi.status_code == 404 and vi.mimetype == "text/html"
    assert '<html lang="vi">' in vi.text
    assert "không tồn tại" in vi.text
    en = client.get("/units/NOPE?lang=en")
    assert '<html lang="en">' in en.text and "does not exist" in en.text
    # the choice is remembered
    assert '<html lang="en">' in client.get("/units/NOPE").text


def test_csrf_is_required_on_forms_and_api_writes(client, make):
    school = make.unit("school", "00070", code="CSRF-S")
    login(client, make.person(Role.UNIT_ADMIN, school))
    form = {"code": "CSRF-S-1", "name": "Lớp 1A", "kind": "class"}
    assert client.post("/units/CSRF-S/children", data=form).status_code == 400
    api = client.post("/api/v1/units", json={**form, "parent_code": "CSRF-S"})
    assert api.status_code == 400 and api.get_json()["code"] == "bad_request"
    assert client.get("/api/v1/units/CSRF-S-1").status_code == 404  # nothing written
    ok = client.post("/api/v1/units", json={**form, "parent_code": "CSRF-S"},
                     headers=csrf_headers(client))
    assert ok.status_code == 201, ok.get_json()
    assert client.get("/api/v1/units/CSRF-S-1").get_json()["name"] == "Lớp 1A"


def test_request_id_is_echoed_and_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abcdef012345"}
                      ).headers["X-Request-ID"] == "abcdef012345"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id; with spaces"})
    assert generated.headers["X-Request-ID"] != "bad id; with spaces"
    assert len(generated.headers["X-Request-ID"]) == 16


def test_personal_ids_never_reach_the_log(app, caplog):
    from lms.logs import RequestContextFilter

    logger = logging.getLogger("lms.test")
    handler_filter = RequestContextFilter()
    with caplog.at_level(logging.INFO, logger="lms"):
        record = logger.makeRecord("lms.test", logging.INFO, __file__, 1,
                                   "looking up %s for %s", ("079203004567", "x"), None)
        handler_filter.filter(record)
    assert record.getMessage() == "looking up 0792****4567 for x"


def test_closed_sessions_and_disabled_users_are_signed_out(client, make, db):
    from lms.auth.service import close_session

    user = make.person(Role.LEARNER, make.unit("school", "00070"))
    token = login(client, user)
    assert client.get("/api/v1/me").status_code == 200
    close_session(token)  # what logout does, server side
    assert client.get("/api/v1/me").status_code == 401  # the old cookie is dead
    login(client, user)
    assert client.get("/api/v1/me").status_code == 200
    user.is_active = False
    db.flush()
    assert client.get("/api/v1/me").status_code == 401


def test_revoked_role_stops_counting_on_the_next_request(client, make):
    school = make.unit("school", "00070", code="REV-S")
    admin = make.user()
    grant = make.grant(admin, Role.UNIT_ADMIN, school)
    login(client, admin)
    assert client.get("/api/v1/units/REV-S").status_code == 200
    from lms.people.service import revoke_grant

    revoke_grant(None, grant.id)
    assert client.get("/api/v1/units/REV-S").status_code == 404
