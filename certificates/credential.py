"""A certificate as an Open Badges 3.0 OpenBadgeCredential (a W3C Verifiable Credential, data
model 2.0) secured with a Data Integrity proof, cryptosuite eddsa-jcs-2022 (W3C vc-di-eddsa),
signed by the same Ed25519 key as the QR payload (certificates.keys), so a wallet can hold it.

What the document says, and why:
- `id` is the certificate's verification URL: the current status (valid, revoked, superseded)
  is there and at /api/v1/verify/<code>. No `credentialStatus`: OB 3.0 knows only
  1EdTechRevocationList and VC 2.0 status methods, and a made-up type makes conforming
  verifiers reject the whole credential.
- The learner is named only by a salted hash (OB 3.0 IdentityObject, identityType "name"):
  `identityHash` = "sha256$" + hex SHA-256 of (NFC name + salt). The salt is HMAC-SHA256 of the
  verification code under a key derived from SECRET_KEY, so the document is reproducible byte
  for byte and each credential has its own salt. The plain name is *not* in `credentialSubject`
  although the PDF prints it: OB 3.0's AchievementSubject defines no `name` (its JSON Schema
  forbids extra properties), and a wallet that forwards the credential then discloses only what
  the holder chooses to prove by telling the name. A public salt stops precomputed tables, not
  a guess of a known person's name: this is OB 3.0's model, and the name is on the PDF anyway.
- Never the personal ID nor the birth date.
- The texts are the document's own, fixed and bilingual like the PDF's, so they do not depend
  on who downloads it (the bytes are the same every time: Ed25519 signatures are
  deterministic, `created` is the issue instant).

JCS (RFC 8785) is implemented here for the JSON we emit (strings, integers within 2^53,
booleans, null, arrays, objects; never floats), which makes the canonical form the one
`json.dumps` gives apart from key order by UTF-16 code units and number rules."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask_babel import gettext as _
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from certificates.keys import signing_key
from certificates.models import Certificate, CertificateState
from certificates.render import verify_url
from lms.db import session
from lms.errors import InvalidState
from lms.units.models import Unit

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PLATFORM_NAME = "Bình dân học vụ số"
_SALT_INFO = b"hocvuso ob3 identity salt v1"
_MAX_SAFE_INTEGER = 2**53 - 1


# -- JCS (RFC 8785) for our subset ------------------------------------------------------------

def _jcs(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:  # RFC 8785 3.2.2.3: IEEE 754 doubles only
            raise ValueError("integer out of the range JCS serialises exactly")
        return str(value)
    if isinstance(value, str):
        # ensure_ascii=False gives ECMAScript's escaping: \" \\ \b \f \n \r \t, other
        # controls as \u00xx (lower-case hex), everything else as is (RFC 8785 3.2.2.2).
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")  # a lone surrogate cannot be serialised: UnicodeEncodeError
        return text
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("JSON object keys must be strings")
        # RFC 8785 3.2.3: properties sorted by their names' UTF-16 code units.
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs(key)}:{_jcs(value[key])}" for key in keys) + "}"
    raise TypeError(f"{type(value).__name__} is outside the JSON subset we canonicalise")


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of value (no floats)."""
    return _jcs(value).encode("utf-8")


# -- multibase base58btc ----------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    """Multibase base58btc: "z" + base58 (Bitcoin alphabet, leading zero bytes as "1")."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "z" + "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def from_base58btc(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("not multibase base58btc")
    body = text[1:]
    number = 0
    for char in body:
        index = _B58.find(char)
        if index < 0:
            raise ValueError("not base58")
        number = number * 58 + index
    zeros = len(body) - len(body.lstrip("1"))
    tail = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + tail


# -- the credential ---------------------------------------------------------------------------

def _base() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def _instant(value: datetime) -> str:
    """XML Schema dateTime in UTC with 'Z', to the second (both engines store the same)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_salt(code: str) -> str:
    secret = hmac.new(current_app.config["SECRET_KEY"].encode(), _SALT_INFO,
                      hashlib.sha256).digest()
    return hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()[:32]


def identity_hash(name: str, salt: str) -> str:
    """OB 3.0 IdentityHash of a name: "sha256$" + hex SHA-256 of UTF-8 (NFC name + salt)."""
    plain = unicodedata.normalize("NFC", name.strip()) + salt
    return "sha256$" + hashlib.sha256(plain.encode("utf-8")).hexdigest()


def verification_method(kid: str) -> str:
    return f"{_base()}/.well-known/jwks.json#{kid}"


def _issuer(cert: Certificate) -> dict[str, Any]:
    unit = session.get(Unit, cert.unit_id) if cert.unit_id is not None else None
    if unit is None:
        return {"id": f"{_base()}/", "type": ["Profile"], "name": PLATFORM_NAME,
                "url": f"{_base()}/"}
    return {"id": f"{_base()}/units/{unit.code}", "type": ["Profile"],
            "name": cert.unit_name or unit.name,
            "parentOrg": {"id": f"{_base()}/", "type": ["Profile"], "name": PLATFORM_NAME}}


def _achievement(cert: Certificate) -> dict[str, Any]:
    title_en = cert.course_title_en or cert.course_title_vi
    return {
        "id": f"{_base()}/api/v1/courses/{cert.course_code}#v{cert.course_version}",
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": cert.course_title_vi,
        "description": (
            f"Chứng nhận hoàn thành khoá học «{cert.course_title_vi}» (mã {cert.course_code}, "
            f"phiên bản {cert.course_version}) trên nền tảng {PLATFORM_NAME}. / Certificate of "
            f"completion of the course \"{title_en}\" (code {cert.course_code}, version "
            f"{cert.course_version}) on the {PLATFORM_NAME} platform."),
        "criteria": {"narrative": (
            "Hoàn thành khoá học theo yêu cầu của nền tảng. / Completed the course as the "
            "platform requires.")},
        "humanCode": cert.course_code,
        "version": str(cert.course_version),
    }


def unsigned_credential(cert: Certificate) -> dict[str, Any]:
    """The OpenBadgeCredential without its proof."""
    salt = identity_salt(cert.code)
    completed = cert.completed_on.strftime("%d/%m/%Y")
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(cert),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": cert.course_title_vi,
        "description": (f"Số hiệu {cert.serial}, hoàn thành ngày {completed}. / "
                        f"Serial {cert.serial}, completed on {completed}."),
        "issuer": _issuer(cert),
        "validFrom": _instant(cert.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": True,
                            "identityHash": identity_hash(cert.full_name, salt),
                            "salt": salt}],
            "achievement": _achievement(cert),
        },
    }


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    """vc-di-eddsa eddsa-jcs-2022: SHA-256(JCS(proof configuration)) || SHA-256(JCS(document));
    the proof configuration is the proof options with the document's @context."""
    config = {**proof_options, "@context": document["@context"]}
    return (hashlib.sha256(canonical(config)).digest()
            + hashlib.sha256(canonical(document)).digest())


def sign(document: dict[str, Any], created: datetime) -> dict[str, Any]:
    """document with a DataIntegrityProof (eddsa-jcs-2022) by the current signing key."""
    key = signing_key()
    options = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "created": _instant(created),
               "verificationMethod": verification_method(key.kid),
               "proofPurpose": "assertionMethod"}
    signature = key.private.private_key.sign(_hash_data(document, options))
    return {**document, "proof": {**options, "proofValue": base58btc(signature)}}


def credential(cert: Certificate) -> dict[str, Any]:
    """The signed OpenBadgeCredential of a certificate: the same dict every time."""
    return sign(unsigned_credential(cert), cert.issued_at)


def export(cert: Certificate) -> dict[str, Any]:
    """The credential of a valid certificate. Raises InvalidState (409) for a revoked or
    superseded one: a wallet must not be handed a freshly signed copy of a withdrawn document
    (the learner still sees it listed, so 404 would only hide the reason)."""
    if cert.state is not CertificateState.VALID:
        raise InvalidState(_("Only a valid certificate can be exported as a verifiable "
                             "credential."))
    return credential(cert)


def verify_credential(doc: dict[str, Any], key_set: KeySet) -> bool:
    """Whether doc carries one eddsa-jcs-2022 assertion proof that holds under the key of
    key_set its verificationMethod names (by the fragment, a JWKS kid). Never raises on a
    malformed document: it is simply not verified."""
    try:
        if not isinstance(doc, dict) or not isinstance(doc.get("proof"), dict):
            return False
        document = copy.deepcopy(doc)
        proof = document.pop("proof")
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        if (options.get("type") != PROOF_TYPE or options.get("cryptosuite") != CRYPTOSUITE
                or options.get("proofPurpose") != "assertionMethod"):
            return False
        if "@context" in options:
            # vc-di-eddsa 3.3.2: the proof's @context must start the document's, and is used.
            context = options["@context"]
            if not isinstance(context, list) or document.get("@context", [])[:len(context)] \
                    != context:
                return False
            document["@context"] = context
        method = options.get("verificationMethod")
        if not isinstance(method, str) or "#" not in method:
            return False
        jwk = key_set.get_by_kid(method.rsplit("#", 1)[1])
        if not isinstance(jwk, OKPKey):
            return False
        public = jwk.public_key
        if not isinstance(public, Ed25519PublicKey):
            return False
        signature = from_base58btc(proof["proofValue"])
        if len(signature) != 64:
            return False
        public.verify(signature, _hash_data(document, options))
        return True
    except (InvalidSignature, JoseError, ValueError, TypeError, KeyError, AttributeError,
            UnicodeEncodeError):
        return False
