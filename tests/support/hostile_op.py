"""A hostile OpenID Connect provider for the relying party's failure cases: a real HTTP server
on 127.0.0.1 (werkzeug, in a thread) serving discovery, JWKS, an authorize endpoint that
redirects straight back with a code, and a token endpoint whose id_token is crafted according
to `mode` (one of MODES: wrong aud or iss, expired, issued long ago, wrong or no nonce, alg none,
HS256 keyed with the public key, a rotated or an unpublished signing key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

MODES = ("ok", "wrong_aud", "wrong_iss", "expired", "issued_long_ago", "wrong_nonce",
         "no_nonce", "alg_none", "hs256_public_key", "rotated_key", "unpublished_key")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in test output
        pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_response(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


class HostileOp:
    """Start with HostileOp(client_id, client_secret).start(); set `mode` and `citizen`."""

    def __init__(self, client_id: str, client_secret: str):
        self.client_id, self.client_secret = client_id, client_secret
        self.key = self._new_key("hostile-1")
        self.published: list[RSAKey] = [self.key]
        self.mode = "ok"
        self.citizen: dict[str, str] = {}
        self.jwks_requests = 0
        self.token_requests = 0
        self._codes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _new_key(kid: str) -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"},
                                   private=True)

    def start(self) -> HostileOp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        routes = {"/.well-known/openid-configuration": self._discovery, "/jwks": self._jwks,
                  "/authorize": self._authorize, "/token": self._token}
        handler = routes.get(request.path)
        response = handler(request) if handler else Response("not found", 404)
        return response(environ, start_response)

    def _discovery(self, _request: Request) -> Response:
        issuer = self.issuer
        return _json_response({
            "issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"]})

    def _jwks(self, _request: Request) -> Response:
        with self._lock:
            self.jwks_requests += 1
            keys = [key.as_dict(private=False) for key in self.published]
        return _json_response({"keys": keys})

    def _authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != self.client_id or not args.get("redirect_uri"):
            return Response("unknown client", 400)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {"nonce": args.get("nonce"), "citizen": dict(self.citizen),
                                 "redirect_uri": args["redirect_uri"],
                                 "challenge": args.get("code_challenge", "")}
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def _token(self, request: Request) -> Response:
        auth = request.authorization
        if (auth is None or auth.username != self.client_id
                or auth.password != self.client_secret):
            return _json_response({"error": "invalid_client"}, 401)
        with self._lock:
            self.token_requests += 1
            grant = self._codes.pop(request.form.get("code", ""), None)  # single use
        verifier = request.form.get("code_verifier", "")
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if (grant is None or request.form.get("redirect_uri") != grant["redirect_uri"]
                or not hmac.compare_digest(challenge, grant["challenge"])):
            return _json_response({"error": "invalid_grant"}, 400)
        return _json_response({"access_token": secrets.token_urlsafe(24),
                               "token_type": "Bearer", "expires_in": 300,
                               "id_token": self.id_token(grant)})

    def claims(self, grant: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        citizen = grant["citizen"]
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "auth_time": now, "nonce": grant["nonce"],
                  "acr": citizen.get("acr", "urn:vneid:loa:2"), "sub": citizen["sub"],
                  "name": citizen["name"], "birthdate": citizen["birthdate"],
                  "pid": citizen["pid"]}
        if self.mode == "wrong_aud":
            claims["aud"] = "another-relying-party"
        elif self.mode == "wrong_iss":
            claims["iss"] = "http://127.0.0.1:9/not-the-issuer"
        elif self.mode == "expired":  # recent enough by iat, past exp (beyond any leeway)
            claims.update(iat=now - 300, exp=now - 180, auth_time=now - 300)
        elif self.mode == "issued_long_ago":  # not expired, but minted an hour ago
            claims.update(iat=now - 3600, exp=now + 300, auth_time=now - 3600)
        elif self.mode == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(32)
        elif self.mode == "no_nonce":
            del claims["nonce"]
        return claims

    def id_token(self, grant: dict[str, Any]) -> str:
        claims = self.claims(grant)
        if self.mode == "alg_none":
            header = {"alg": "none", "typ": "JWT"}
            return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
        if self.mode == "hs256_public_key":
            # The classic confusion: an HMAC keyed with the provider's *public* key, which
            # anyone can fetch from the JWKS.
            header = {"alg": "HS256", "typ": "JWT", "kid": self.key.kid}
            signing_input = (f"{_b64(json.dumps(header).encode())}."
                             f"{_b64(json.dumps(claims).encode())}")
            public_pem = self.key.as_pem(private=False)
            signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{_b64(signature)}"
        key = self.key
        if self.mode == "rotated_key":  # a new key, published from now on
            with self._lock:
                key = self._new_key(f"hostile-{len(self.published) + 1}")
                self.published.append(key)
        elif self.mode == "unpublished_key":  # a key the JWKS never shows
            key = self._new_key("hostile-unpublished")
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
