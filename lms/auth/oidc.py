"""A strict, standards-only OpenID Connect relying party: discovery, authorization code flow
with PKCE S256, single-use state and nonce, client_secret_basic or private_key_jwt, and our own
id_token checks (Authlib checks neither `acr` nor, once claims_options are given, `iss`)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALLOWED_ALGS = ("RS256", "PS256", "ES256", "EdDSA")  # asymmetric only: never none, never HS*
HTTP_TIMEOUT = 10
METADATA_TTL = 3600
MAX_TOKEN_AGE = 600  # an id_token issued longer ago than this is stale
LEEWAY = 60


class LoginFailed(Exception):
    """The sign-in cannot complete. `reason` picks the page the user sees."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ClientSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    auth_method: str  # client_secret_basic | private_key_jwt
    private_key_pem: str | None
    algorithms: tuple[str, ...]


def settings() -> ClientSettings:
    config = current_app.config
    algorithms = tuple(a for a in (config.get("OIDC_ID_TOKEN_ALGS") or ALLOWED_ALGS)
                       if a in ALLOWED_ALGS)
    return ClientSettings(
        issuer=config["OIDC_ISSUER"], client_id=config["OIDC_CLIENT_ID"],
        client_secret=config.get("OIDC_CLIENT_SECRET"),
        auth_method=config.get("OIDC_CLIENT_AUTH_METHOD") or "client_secret_basic",
        private_key_pem=config.get("OIDC_CLIENT_PRIVATE_KEY"), algorithms=algorithms)


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise LoginFailed("provider_unreachable", f"GET {url}: {exc}") from exc


def _cache() -> dict[str, tuple[float, Any]]:
    # Provider metadata and keys are the same for every user: caching them per process holds
    # no per-user state (DESIGN.md), and a refetch on an unknown kid keeps rotation working.
    return current_app.extensions.setdefault("lms_oidc_cache", {})


def metadata(client: ClientSettings) -> dict[str, Any]:
    cached = _cache().get(("metadata", client.issuer))  # type: ignore[call-overload]
    if cached and cached[0] > time.monotonic():
        return cached[1]
    document = _get_json(client.issuer.rstrip("/") + "/.well-known/openid-configuration")
    if document.get("issuer") != client.issuer:
        # OIDC Discovery 4.3: the issuer in the document must equal the one we asked.
        raise LoginFailed("provider_unreachable", "discovery issuer mismatch")
    _cache()[("metadata", client.issuer)] = (time.monotonic() + METADATA_TTL, document)  # type: ignore[index]
    return document


def _key_set(meta: dict[str, Any], force: bool = False) -> KeySet:
    key = ("jwks", meta["jwks_uri"])
    cached = _cache().get(key)  # type: ignore[call-overload]
    if cached and not force and cached[0] > time.monotonic():
        return cached[1]
    keys = KeySet.import_key_set(_get_json(meta["jwks_uri"]))
    _cache()[key] = (time.monotonic() + METADATA_TTL, keys)  # type: ignore[index]
    return keys


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def begin(redirect_uri: str, acr_values: str | None) -> tuple[str, dict[str, Any]]:
    """The provider URL to send the browser to, and what to keep in the browser session."""
    client = settings()
    meta = metadata(client)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = _pkce_pair()
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": redirect_uri, "scope": "openid profile", "state": state,
              "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
    if acr_values:
        params["acr_values"] = acr_values
    pending = {"state": state, "nonce": nonce, "verifier": verifier,
               "redirect_uri": redirect_uri, "at": int(time.time())}
    return f"{meta['authorization_endpoint']}?{urlencode(params)}", pending


def _session(client: ClientSettings, meta: dict[str, Any], redirect_uri: str) -> OAuth2Session:
    key_jwt = client.auth_method == "private_key_jwt"
    # For private_key_jwt Authlib takes the private key in the client_secret slot.
    oauth = OAuth2Session(client.client_id,
                          client.private_key_pem if key_jwt else client.client_secret,
                          token_endpoint_auth_method=client.auth_method,
                          redirect_uri=redirect_uri, default_timeout=HTTP_TIMEOUT)
    if key_jwt:
        oauth.register_client_auth_method(PrivateKeyJWT(meta["token_endpoint"]))
    return oauth


def complete(code: str, pending: dict[str, Any]) -> dict[str, Any]:
    """Exchange the code and verify the id_token. Returns its claims (with userinfo's).

    Raises LoginFailed with reason provider_unreachable or token.
    """
    client = settings()
    meta = metadata(client)
    oauth = _session(client, meta, pending["redirect_uri"])
    try:
        token = oauth.fetch_token(meta["token_endpoint"], code=code,
                                  grant_type="authorization_code",
                                  code_verifier=pending["verifier"])
    except requests.RequestException as exc:
        raise LoginFailed("provider_unreachable", f"token endpoint: {exc}") from exc
    except Exception as exc:  # OAuthError from Authlib: the provider refused the code
        raise LoginFailed("token", f"token endpoint refused: {exc}") from exc
    raw = token.get("id_token")
    if not raw:
        raise LoginFailed("token", "no id_token")
    claims = verify_id_token(raw, client, meta, pending["nonce"])
    if "userinfo_endpoint" in meta and token.get("access_token"):
        claims = {**_userinfo(meta, token["access_token"], claims["sub"]), **claims}
    return claims


def verify_id_token(raw: str, client: ClientSettings, meta: dict[str, Any],
                    nonce: str) -> dict[str, Any]:
    """OIDC Core 3.1.3.7, every step, with our own algorithm list. Raises LoginFailed."""
    try:
        token = jwt.decode(raw, lambda guest: _resolve_key(guest, meta),
                           algorithms=list(client.algorithms))
    except (JoseError, ValueError, KeyError) as exc:
        raise LoginFailed("token", f"signature: {exc}") from exc
    claims = token.claims
    now = int(time.time())
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    problems = [
        (claims.get("iss") != client.issuer, "iss"),
        (client.client_id not in audiences, "aud"),
        (len(audiences) > 1 and claims.get("azp") != client.client_id, "azp"),
        (not isinstance(claims.get("exp"), int) or claims["exp"] + LEEWAY < now, "exp"),
        (not isinstance(claims.get("iat"), int) or claims["iat"] - LEEWAY > now
         or claims["iat"] + MAX_TOKEN_AGE < now, "iat"),
        (not secrets.compare_digest(str(claims.get("nonce", "")), nonce), "nonce"),
        (not claims.get("sub"), "sub"),
    ]
    failed = [name for bad, name in problems if bad]
    if failed:
        raise LoginFailed("token", "claims: " + ", ".join(failed))
    return dict(claims)


def _resolve_key(guest: Any, meta: dict[str, Any]):
    kid = guest.headers().get("kid")
    for force in (False, True):  # one refetch on an unknown kid (key rotation)
        keys = _key_set(meta, force=force)
        try:
            return keys.get_by_kid(kid) if kid else keys
        except (JoseError, ValueError, KeyError):  # joserfc: InvalidKeyIdError
            continue
    raise ValueError(f"no key with kid {kid!r}")


def _userinfo(meta: dict[str, Any], access_token: str, subject: str) -> dict[str, Any]:
    try:
        response = requests.get(meta["userinfo_endpoint"], timeout=HTTP_TIMEOUT,
                                headers={"Authorization": f"Bearer {access_token}"})
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise LoginFailed("provider_unreachable", f"userinfo: {exc}") from exc
    if info.get("sub") != subject:  # OIDC Core 5.3.2: the sub must match the id_token's
        raise LoginFailed("token", "userinfo sub mismatch")
    return info


def end_session_url(post_logout_redirect_uri: str) -> str | None:
    """RP-initiated logout at the provider, when it offers an end_session_endpoint. Never
    raises: the local sign-out must stand whatever the provider does."""
    if not current_app.config.get("OIDC_ISSUER"):
        return None
    try:
        meta = metadata(settings())
    except LoginFailed:
        return None
    endpoint = meta.get("end_session_endpoint")
    if not endpoint:
        return None
    # client_id instead of id_token_hint (RP-Initiated Logout 1.0, section 2): the id_token
    # carries the personal ID, and neither our database nor a URL in an access log may.
    params = {"post_logout_redirect_uri": post_logout_redirect_uri,
              "client_id": settings().client_id}
    return f"{endpoint}?{urlencode(params)}"
