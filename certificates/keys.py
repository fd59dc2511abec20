"""The Ed25519 key that signs certificates' offline payloads and verifiable credentials.

CERTIFICATE_KEY_FILE names a PEM (PKCS#8) Ed25519 private key. Without one the key is derived
from SECRET_KEY (HKDF-SHA256), so every node of a deployment signs with the same key and a
development machine needs no file; a deployment that rotates SECRET_KEY must therefore set
CERTIFICATE_KEY_FILE. CERTIFICATE_OLD_PUBLIC_KEYS lists PEM files of retired public keys that
verifiers must still accept."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from joserfc.jwk import KeySet, OKPKey

from lms.errors import ConfigError

ALGORITHM = "Ed25519"  # RFC 9864's fully specified name for EdDSA over Ed25519
_HKDF_INFO = b"hocvuso certificate signing key v1"
KID_LENGTH = 12  # 72 bits of the thumbprint: enough to tell a handful of keys apart


@dataclass(frozen=True)
class SigningKey:
    private: OKPKey
    kid: str  # the start of the public key's RFC 7638 thumbprint (short: it rides in every QR)


def _derive(secret: str) -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_HKDF_INFO).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _load_private(path: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read CERTIFICATE_KEY_FILE {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"CERTIFICATE_KEY_FILE {path} is not an Ed25519 private key")
    return key


def _load_public(path: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read old public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key")
    return key


@lru_cache(maxsize=8)
def _signing_key(key_file: str | None, secret: str) -> SigningKey:
    private = _load_private(key_file) if key_file else _derive(secret)
    jwk = OKPKey.import_key(private)
    return SigningKey(jwk, jwk.thumbprint()[:KID_LENGTH])


def signing_key() -> SigningKey:
    config = current_app.config
    return _signing_key(config.get("CERTIFICATE_KEY_FILE"), config["SECRET_KEY"])


def public_keys() -> KeySet:
    """The current public key and the retired ones, each with its kid."""
    current = signing_key()
    keys = [OKPKey.import_key(current.private.as_dict(private=False),
                              {"kid": current.kid, "alg": ALGORITHM, "use": "sig"})]
    old = current_app.config.get("CERTIFICATE_OLD_PUBLIC_KEYS") or ()
    if isinstance(old, str):  # from the environment: comma-separated paths
        old = [p.strip() for p in old.split(",") if p.strip()]
    for path in old:
        jwk = OKPKey.import_key(_load_public(path))
        keys.append(OKPKey.import_key(jwk.as_dict(), {"kid": jwk.thumbprint()[:KID_LENGTH],
                                                      "alg": ALGORITHM, "use": "sig"}))
    return KeySet(keys)


def jwks() -> dict:
    """The JSON Web Key Set published at /.well-known/jwks.json."""
    return public_keys().as_dict(private=False)
