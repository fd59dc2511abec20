"""The public verification page and JSON: valid, revoked on the very next request, superseded
with a link to the new version; the minimum disclosed; unknown, guessed and malformed codes
all get the same answer, from the same work; rate-limited."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from certificates import service
from lms.db import get_db
from lms.limits import limiter
from lms.people.models import Role

KEYS = {"status", "serial", "full_name", "course_code", "course_version", "course_title",
        "completed_on", "issued_on", "issuer", "version", "revoked_at", "revoked_reason",
        "superseded_by", "name_confirmed"}


def test_valid_certificate_discloses_the_minimum(db, client, complete):
    _user, _e, cert = complete(birth_on=date(2012, 9, 5))
    body = client.get(f"/api/v1/verify/{cert.code}").get_json()
    assert set(body) == KEYS
    assert body["status"] == "valid" and body["full_name"] == cert.full_name
    assert body["serial"] == cert.serial and body["issuer"] == "Trường Tiểu học Kim Đồng"
    page = client.get(f"/verify/{cert.code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and cert.full_name in text
    for secret in ("2012-09-05", "05/09/2012", "5/9/2012", "2012"):
        assert secret not in str(body) and secret not in text.split("<main")[1]


def test_unknown_guessed_and_malformed_codes_get_the_same_answer(db, client, complete):
    _user, _e, cert = complete()
    guessed = "b" * 32
    near = cert.code[:-1] + ("a" if cert.code[-1] != "a" else "b")
    answers = [client.get(f"/api/v1/verify/{c}").get_json()
               for c in (guessed, near, "not-a-code", "%27%3B--", "x" * 500)]
    assert all(a == answers[0] for a in answers)
    assert set(answers[0]) == KEYS and answers[0]["status"] == "not_found"
    pages = [client.get(f"/verify/{c}") for c in (guessed, "not-a-code", near)]
    assert {p.status_code for p in pages} == {404}
    # the same page (the header's sign-in link carries the path the visitor typed)
    mains = {p.get_data(as_text=True).split('<main id="main"')[1] for p in pages}
    assert len(mains) == 1


def test_same_work_for_known_and_unknown_codes(db, client, complete, app):
    """The same SQL for every code: a timing difference cannot tell a real code."""
    _user, _e, cert = complete()
    engine = get_db(app).engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "SAVEPOINT" not in statement:  # the test harness's own, numbered
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        shapes = []
        for code in (cert.code, "c" * 32, "malformed!"):
            statements.clear()
            client.get(f"/api/v1/verify/{code}")
            shapes.append(list(statements))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert shapes[0] == shapes[1] == shapes[2] and len(shapes[0]) >= 1


def test_revoked_shows_on_the_very_next_request(db, client, complete, make, school):
    _user, _e, cert = complete()
    admin = make.person(Role.UNIT_ADMIN, school[0])
    assert client.get(f"/api/v1/verify/{cert.code}").get_json()["status"] == "valid"
    service.revoke(cert, "Làm bài hộ", admin)
    body = client.get(f"/api/v1/verify/{cert.code}").get_json()
    assert body["status"] == "revoked" and body["revoked_reason"] == "Làm bài hộ"
    assert body["revoked_at"] is not None
    page = client.get(f"/verify/{cert.code}?lang=en").get_data(as_text=True)
    assert "revoked" in page and "Làm bài hộ" in page


def test_superseded_links_to_the_new_version(db, client, complete):
    _user, _e, cert = complete("Nguyen Thi Ngoc Anh")
    new = service.reissue(cert, "Nguyễn Thị Ngọc Ánh")
    old = client.get(f"/api/v1/verify/{cert.code}").get_json()
    assert old["status"] == "superseded" and old["superseded_by"] == new.code
    current = client.get(f"/api/v1/verify/{new.code}").get_json()
    assert current["status"] == "valid" and current["version"] == 2
    assert current["full_name"] == "Nguyễn Thị Ngọc Ánh"
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert f"/verify/{new.code}" in page


def test_name_check_confirms_or_refuses(db, client, complete):
    _user, _e, cert = complete()
    ok = client.post(f"/api/v1/verify/{cert.code}", json={"name": cert.full_name}).get_json()
    assert ok["name_confirmed"] is True
    altered = client.post(f"/api/v1/verify/{cert.code}",
                          json={"name": "Nguyễn Thị Ngọc Anh"}).get_json()
    assert altered["name_confirmed"] is False and altered["status"] == "valid"
    bad = client.post(f"/api/v1/verify/{cert.code}", json={"name": " "})
    assert bad.status_code == 422 and "name" in bad.get_json()["errors"]
    from tests.support.factories import csrf_headers

    token = csrf_headers(client)["X-CSRFToken"]
    page = client.post(f"/verify/{cert.code}?lang=en",
                       data={"csrf_token": token, "name": "Nguyễn Thị Ngọc Anh"})
    assert "NOT confirmed" in page.get_data(as_text=True)
    assert client.post(f"/verify/{cert.code}", data={"name": "x"}).status_code == 400  # CSRF


@pytest.fixture
def tight_limit(app):
    saved = app.config["RATELIMIT_VERIFY"]
    app.config["RATELIMIT_VERIFY"] = "3 per minute"
    limiter.reset()
    yield
    app.config["RATELIMIT_VERIFY"] = saved
    limiter.reset()


def test_verification_is_rate_limited(db, client, tight_limit):
    for _ in range(3):
        assert client.get("/api/v1/verify/" + "d" * 32).status_code == 200
    limited = client.get("/api/v1/verify/" + "d" * 32)
    assert limited.status_code == 429
    assert limited.get_json()["code"] == "too_many_requests"
    assert client.get("/verify/" + "d" * 32).status_code == 429


def test_jwks_publishes_the_public_key_only(db, client):
    body = client.get("/.well-known/jwks.json").get_json()
    (key,) = body["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "Ed25519"
    assert "d" not in key and key["kid"]
