"""The development provider's RSA signing key: created once under LMS_STORAGE_DIR and shared
by every process (atomic create, so two workers starting together agree on one key)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from flask import current_app
from joserfc.jwk import RSAKey

KID = "dev-idp-1"


def signing_key() -> RSAKey:
    cache = current_app.extensions.setdefault("lms_dev_idp", {})
    if "key" not in cache:
        cache["key"] = _load_or_create(Path(current_app.config["STORAGE_DIR"]) / "dev-idp"
                                       / "signing-key.json")
    return cache["key"]


def _load_or_create(path: Path) -> RSAKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"},
                                  private=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump(key.as_dict(private=True), fh)
        try:
            os.link(tmp, path)  # fails if another process created it first: use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return RSAKey.import_key(json.loads(path.read_text()))


def public_jwks() -> dict:
    return {"keys": [signing_key().as_dict(private=False)]}
