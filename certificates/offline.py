"""The compact signed payload a certificate's QR code carries, verifiable with no server.

A JWS (RFC 7515 compact serialisation, alg Ed25519) whose payload is the JSON object
{"s": serial, "c": course code, "v": course version, "d": completion date (ISO),
 "n": base64url SHA-256 of the NFC full name}. The QR encodes
<PUBLIC_URL>/verify/<code>#<JWS>: the fragment never reaches a server log, the path lets a
phone open the online check. docs/certificates.md gives the by-hand procedure."""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from certificates.keys import ALGORITHM, signing_key

_CLAIMS = ("s", "c", "v", "d", "n")
MAX_PAYLOAD = 2048


def name_hash(name: str) -> str:
    digest = hashlib.sha256(unicodedata.normalize("NFC", name.strip()).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def claims_of(serial: str, course_code: str, course_version: int, completed_on: str,
              full_name: str) -> dict[str, Any]:
    return {"s": serial, "c": course_code, "v": course_version, "d": completed_on,
            "n": name_hash(full_name)}


def sign(claims: dict[str, Any]) -> str:
    key = signing_key()
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid}, payload.encode(),
                                 key.private, algorithms=[ALGORITHM])


def split_qr(text: str) -> tuple[str | None, str]:
    """(verification code, JWS) from what a QR code holds: the URL with its fragment, or a
    bare JWS."""
    text = text.strip()
    if "#" in text:
        url, _, token = text.partition("#")
        return url.rstrip("/").rsplit("/", 1)[-1] or None, token
    return None, text


@dataclass
class OfflineCheck:
    valid: bool  # the signature holds under a published key and the payload is well formed
    claims: dict[str, Any] = field(default_factory=dict)
    name_matches: bool | None = None  # None: no name given to compare
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.valid and self.name_matches is not False


def verify(token: str, keys: KeySet, name: str | None = None) -> OfflineCheck:
    """Check a payload against public keys (a JWKS), and the printed name if given."""
    if len(token) > MAX_PAYLOAD or token.count(".") != 2:
        return OfflineCheck(False, reason="malformed")
    try:
        obj = jws.deserialize_compact(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        return OfflineCheck(False, reason=f"bad signature ({type(exc).__name__})")
    try:
        claims = json.loads(obj.payload)
    except ValueError:
        return OfflineCheck(False, reason="payload is not JSON")
    if not isinstance(claims, dict) or set(claims) != set(_CLAIMS):
        return OfflineCheck(False, reason="unexpected claims")
    matches = None if name is None else name_hash(name) == claims["n"]
    return OfflineCheck(True, claims, matches)
