"""Endpoints of the development OpenID Connect provider under /dev-idp/.

Responses of the token and userinfo endpoints follow RFC 6749 / OIDC Core (their own error
format), not our API error shape: the relying party is a standards client.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError

from lms.auth.claims import acr_for_level, claim_names
from lms.auth.devidp import keys, service
from lms.db import unit_of_work
from lms.pii import mask_personal_id
from lms.security import csrf

bp = Blueprint("devidp", __name__, url_prefix="/dev-idp", template_folder="templates")
CLIENT_ID = "hocvuso-dev"
TOKEN_LIFETIME = 300


def client_secret(config: Any) -> str:
    return hmac.new(config["SECRET_KEY"].encode(), b"dev-idp-client-secret",
                    hashlib.sha256).hexdigest()


def _issuer() -> str:
    return current_app.config["DEV_IDP_ISSUER"]


def _site() -> str:
    parts = urlsplit(_issuer())
    return f"{parts.scheme}://{parts.netloc}"


def _redirect_uris() -> set[str]:
    return set(current_app.config.get("DEV_IDP_REDIRECT_URIS") or
               [_site() + "/auth/callback"])


@bp.get("/.well-known/openid-configuration")
def discovery():
    issuer = _issuer()
    return jsonify({
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/end-session",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "scopes_supported": ["openid", "profile"],
        "acr_values_supported": [acr_for_level(current_app.config, 1),
                                 acr_for_level(current_app.config, 2)],
        "claims_supported": ["sub", "name", "birthdate", "acr",
                             claim_names(current_app.config)["personal_id"]],
    })


@bp.get("/jwks")
def jwks():
    return jsonify(keys.public_jwks())


def _authorize_params(source) -> dict[str, str]:
    params = {k: source.get(k, "") for k in (
        "client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
        "code_challenge", "code_challenge_method", "acr_values")}
    # An unknown client or redirect URI is shown, never redirected to (RFC 6749 4.1.2.1).
    if params["client_id"] != CLIENT_ID or params["redirect_uri"] not in _redirect_uris():
        abort(400, description="unknown client_id or redirect_uri")
    return params


def _back(params: dict[str, str], **values: str):
    query = urlencode({**values, "state": params["state"]})
    return redirect(f"{params['redirect_uri']}?{query}", 303)


@bp.get("/authorize")
def authorize():
    params = _authorize_params(request.args)
    if params["response_type"] != "code" or "openid" not in params["scope"].split():
        return _back(params, error="unsupported_response_type")
    if params["code_challenge_method"] != "S256" or len(params["code_challenge"]) < 43:
        return _back(params, error="invalid_request",
                     error_description="PKCE S256 is required")
    wanted = 2 if params["acr_values"] == acr_for_level(current_app.config, 2) else 1
    return render_template("devidp/authorize.html", params=params, wanted=wanted,
                           citizens=service.list_citizens(), mask=mask_personal_id)


@bp.post("/authorize")
def choose():
    params = _authorize_params(request.form)
    if request.form.get("action") != "sign-in":
        return _back(params, error="access_denied")
    citizen = service.get_citizen(request.form.get("subject", ""))
    if citizen is None:
        abort(400, description="choose a citizen")
    level = min(int(request.form.get("level", "1") == "2") + 1, citizen.level)
    code = service.issue_code(subject=citizen.subject, client_id=params["client_id"],
                              redirect_uri=params["redirect_uri"],
                              code_challenge=params["code_challenge"],
                              nonce=params["nonce"] or None, level=level)
    return _back(params, code=code)


def _oauth_error(error: str, status: int = 400):
    return jsonify(error=error), status, {"Cache-Control": "no-store"}


def _client_authenticated() -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    return (auth.username == CLIENT_ID and auth.password is not None
            and secrets.compare_digest(auth.password, client_secret(current_app.config)))


@bp.post("/token")
@csrf.exempt
def token():
    if not _client_authenticated():
        return _oauth_error("invalid_client", 401)
    if request.form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type")
    unit_of_work()["commit_on_error"] = True  # a refused code is still used up
    grant = service.redeem_code(request.form.get("code", ""), client_id=CLIENT_ID,
                                redirect_uri=request.form.get("redirect_uri", ""),
                                code_verifier=request.form.get("code_verifier", ""))
    if grant is None:
        return _oauth_error("invalid_grant")
    citizen = service.get_citizen(grant.subject)
    now = int(time.time())
    names = claim_names(current_app.config)
    claims = {"iss": _issuer(), "sub": citizen.subject, "aud": CLIENT_ID, "iat": now,
              "exp": now + TOKEN_LIFETIME, "auth_time": now,
              "acr": acr_for_level(current_app.config, grant.level),
              names["full_name"]: citizen.full_name,
              names["birth_date"]: citizen.birth_on.isoformat(),
              names["personal_id"]: citizen.personal_id}
    if grant.nonce:
        claims["nonce"] = grant.nonce
    header = {"alg": "RS256", "kid": keys.KID}
    access = jwt.encode(header, {"iss": _issuer(), "sub": citizen.subject, "aud": _issuer(),
                                 "exp": now + TOKEN_LIFETIME, "scope": "openid profile"},
                        keys.signing_key())
    return jsonify(access_token=access, token_type="Bearer",  # noqa: S106 (a token type)
                   expires_in=TOKEN_LIFETIME,
                   id_token=jwt.encode(header, claims, keys.signing_key())), 200, {
                       "Cache-Control": "no-store"}


@bp.get("/userinfo")
def userinfo():
    auth = request.headers.get("Authorization", "")
    try:
        access = jwt.decode(auth.removeprefix("Bearer "), keys.signing_key(),
                            algorithms=["RS256"])
    except (JoseError, ValueError):
        return _oauth_error("invalid_token", 401)
    if access.claims.get("aud") != _issuer() or access.claims.get("exp", 0) < time.time():
        return _oauth_error("invalid_token", 401)
    citizen = service.get_citizen(str(access.claims.get("sub")))
    if citizen is None:
        return _oauth_error("invalid_token", 401)
    names = claim_names(current_app.config)
    return jsonify({"sub": citizen.subject, names["full_name"]: citizen.full_name,
                    names["birth_date"]: citizen.birth_on.isoformat(),
                    names["personal_id"]: citizen.personal_id})


@bp.get("/end-session")
def end_session():
    target = request.args.get("post_logout_redirect_uri", "")
    if target and urlsplit(target).netloc == urlsplit(_site()).netloc:
        return redirect(target, 303)
    return render_template("devidp/signed_out.html")
