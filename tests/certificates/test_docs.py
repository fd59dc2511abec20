"""The by-hand offline procedure in docs/certificates.md works as written: it accepts an
issued QR and refuses an altered one, with nothing but `cryptography`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from certificates import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "certificates.md"


def documented_check():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # noqa: S102 (our own document)
    return namespace["check"]


def test_documented_procedure(db, client, complete):
    check = documented_check()
    _user, _e, cert = complete()
    jwks = client.get("/.well-known/jwks.json").get_json()
    text = render.qr_text(cert)
    claims, name_ok = check(text, jwks, cert.full_name)
    assert claims["s"] == cert.serial and name_ok
    assert check(text, jwks, "Nguyễn Thị Ngọc Anh")[1] is False
    head, payload, signature = text.split("#")[1].split(".")
    tail = "AA" if not payload.endswith("AA") else "BB"
    forged = text.split("#")[0] + "#" + ".".join([head, payload[:-2] + tail, signature])
    with pytest.raises((InvalidSignature, ValueError)):
        check(forged, jwks, cert.full_name)
