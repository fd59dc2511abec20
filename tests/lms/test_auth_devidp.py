"""The development identity provider, driven in-process: discovery, PKCE-bound single-use
codes, client authentication, signed tokens; and the `next=` guard."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from sqlalchemy.orm import sessionmaker

from lms.app import create_app
from lms.auth.devidp import keys, service
from lms.auth.devidp.views import CLIENT_ID, client_secret
from lms.auth.redirects import safe_next
from lms.db import get_db
from tests.conftest import TEST_CONFIG

ISSUER = "http://127.0.0.1:5999/dev-idp"
REDIRECT = "http://127.0.0.1:5999/auth/callback"


@pytest.fixture
def idp(database_url, db, tmp_path):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "DEV_IDP": True,
                      "DEV_IDP_ISSUER": ISSUER, "STORAGE_DIR": str(tmp_path)})
    get_db(app).session_factory = sessionmaker(bind=db.connection(), expire_on_commit=False,
                                               join_transaction_mode="create_savepoint")
    service.register_citizen("citizen-1", "Lò Thị Sình", date(2003, 5, 1), "079303004567",
                             level=2, description="test")
    db.flush()
    yield app
    get_db(app).dispose()


def pkce():
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def get_code(client, challenge, level="2", nonce="n-123"):
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": "openid profile", "state": "s-1", "nonce": nonce,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    page = client.get("/dev-idp/authorize", query_string=params)
    assert page.status_code == 200 and "Lò Thị Sình" in page.text
    assert "079303004567" not in page.text  # masked on the picker too
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/dev-idp/authorize", data={
        **params, "csrf_token": token, "subject": "citizen-1", "level": level,
        "action": "sign-in"})
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.location).query)
    assert answer.location.startswith(REDIRECT) and query["state"] == ["s-1"]
    return query["code"][0]


def exchange(client, code, verifier, secret=None):
    auth = (CLIENT_ID, secret or client_secret(client.application.config))
    return client.post("/dev-idp/token", auth=auth, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})


def test_discovery_and_keys(idp):
    client = idp.test_client()
    meta = client.get("/dev-idp/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == ISSUER
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["end_session_endpoint"] == ISSUER + "/end-session"
    jwks = client.get("/dev-idp/jwks").get_json()
    assert jwks["keys"][0]["kid"] == keys.KID and "d" not in jwks["keys"][0]


def test_code_flow_with_pkce(idp):
    client = idp.test_client()
    verifier, challenge = pkce()
    answer = exchange(client, get_code(client, challenge), verifier)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    with idp.app_context():
        claims = jwt.decode(body["id_token"], keys.signing_key(), algorithms=["RS256"]).claims
    assert claims["iss"] == ISSUER and claims["aud"] == CLIENT_ID and claims["nonce"] == "n-123"
    assert (claims["pid"], claims["name"], claims["birthdate"]) == (
        "079303004567", "Lò Thị Sình", "2003-05-01")
    assert claims["acr"] == "urn:vneid:loa:2"
    info = client.get("/dev-idp/userinfo",
                      headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert info["sub"] == "citizen-1"


def test_codes_are_single_use_and_bound_to_the_verifier(idp):
    client = idp.test_client()
    verifier, challenge = pkce()
    code = get_code(client, challenge)
    assert exchange(client, code, "w" * 64).get_json() == {"error": "invalid_grant"}
    assert exchange(client, code, verifier).status_code == 400  # used up by the failed try
    second = get_code(client, challenge)
    assert exchange(client, second, verifier).status_code == 200
    assert exchange(client, second, verifier).get_json() == {"error": "invalid_grant"}


def test_client_must_authenticate(idp):
    client = idp.test_client()
    verifier, challenge = pkce()
    code = get_code(client, challenge)
    assert exchange(client, code, verifier, secret="wrong").status_code == 401


def test_unknown_redirect_is_never_followed_and_pkce_is_required(idp):
    client = idp.test_client()
    bad = client.get("/dev-idp/authorize", query_string={
        "client_id": CLIENT_ID, "redirect_uri": "https://evil.example/cb",
        "response_type": "code", "scope": "openid", "state": "x"})
    assert bad.status_code == 400 and "evil.example" not in bad.headers.get("Location", "")
    no_pkce = client.get("/dev-idp/authorize", query_string={
        "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid", "state": "x"})
    assert no_pkce.status_code == 303 and "error=invalid_request" in no_pkce.location


def test_level_one_citizen_cannot_get_level_two(idp, db):
    service.register_citizen("citizen-2", "Vàng A Chứ", date(2004, 1, 2), "079204001111",
                             level=1)
    db.flush()
    client = idp.test_client()
    verifier, challenge = pkce()
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": "openid", "state": "s", "nonce": "n", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    page = client.get("/dev-idp/authorize", query_string=params)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/dev-idp/authorize", data={**params, "csrf_token": token,
                                                     "subject": "citizen-2", "level": "2",
                                                     "action": "sign-in"})
    code = parse_qs(urlsplit(answer.location).query)["code"][0]
    id_token = exchange(client, code, verifier).get_json()["id_token"]
    with idp.app_context():
        claims = jwt.decode(id_token, keys.signing_key(), algorithms=["RS256"]).claims
    assert claims["acr"] == "urn:vneid:loa:1"


def test_cancel_returns_access_denied(idp):
    client = idp.test_client()
    _, challenge = pkce()
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": "openid", "state": "s-9", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    page = client.get("/dev-idp/authorize", query_string=params)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/dev-idp/authorize", data={**params, "csrf_token": token,
                                                     "action": "cancel"})
    assert "error=access_denied" in answer.location and "state=s-9" in answer.location


@pytest.mark.parametrize(("value", "expected"), [
    ("/units/08", "/units/08"),
    ("/units/?q=a", "/units/?q=a"),
    ("//evil.example", "/"),
    ("https:evil.example", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("/ok\r\nSet-Cookie: x", "/"),
    ("", "/"),
    (None, "/"),
])
def test_next_accepts_only_local_paths(value, expected):
    assert safe_next(value) == expected
