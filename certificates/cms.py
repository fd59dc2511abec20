"""PAdES signatures for stamped certificates (stamp.py), without pyHanko's cost per document.

pyHanko builds the CMS object once per signer (a dry run over a random digest): its signed
attributes (content type, message digest, the ESS signing-certificate-v2 that PAdES B-B
requires), algorithms and certificate chain. For each document only the message digest and
the signature change, so the DER is put together from those parts around the two values,
and checked once against pyHanko's own encoding. Letting pyHanko build it costs about 9 ms a
document on this machine, most of the budget of a certificate; this costs well under one."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from certificates import pades


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


class FastSigner:
    """Signs byte ranges as pyHanko's signer would, with the CMS parts encoded once."""

    def __init__(self, signer: pades.Signer) -> None:
        self.key = signer.private_key
        marker = os.urandom(32)
        info = asyncio.run(signer.async_sign(marker, "sha256", use_pades=True))
        data = info["content"]
        one = data["signer_infos"][0]
        mechanism = one["signature_algorithm"]["algorithm"].native
        if isinstance(self.key, ec.EllipticCurvePrivateKey) and mechanism == "sha256_ecdsa":
            self._sign = lambda m: self.key.sign(m, ec.ECDSA(hashes.SHA256()))
        elif isinstance(self.key, rsa.RSAPrivateKey) and mechanism in ("sha256_rsa",
                                                                       "rsassa_pkcs1v15"):
            self._sign = lambda m: self.key.sign(m, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise ValueError(f"no fast path for {mechanism}")
        attributes = one["signed_attrs"].dump()
        at = attributes.index(marker)
        self.attributes = (attributes[:at], attributes[at + 32:])
        self.before_attributes = (one["version"].dump() + one["sid"].dump()
                                  + one["digest_algorithm"].dump())
        self.after_attributes = one["signature_algorithm"].dump()
        self.data_head = (data["version"].dump() + data["digest_algorithms"].dump()
                          + data["encap_content_info"].dump() + data["certificates"].dump())
        self.content_type = info["content_type"].dump()
        if self._encode(marker, one["signature"].native) != info.dump():
            raise ValueError("the CMS parts do not give back pyHanko's encoding")
        # the room a document reserves for it: ECDSA signatures vary by a few bytes
        self.room = len(info.dump()) + 64

    def _encode(self, digest: bytes, signature: bytes) -> bytes:
        attributes = self.attributes[0] + digest + self.attributes[1]
        signer_info = _tlv(0x30, self.before_attributes + attributes + self.after_attributes
                           + _tlv(0x04, signature))
        signed_data = _tlv(0x30, self.data_head + _tlv(0x31, signer_info))
        return _tlv(0x30, self.content_type + _tlv(0xA0, signed_data))

    def __call__(self, *ranges) -> bytes:
        """The CMS object (DER) signing the concatenation of ranges."""
        digest = hashlib.sha256()
        for part in ranges:
            digest.update(part)
        value = digest.digest()
        attributes = self.attributes[0] + value + self.attributes[1]
        # the signature covers the attributes as a SET (RFC 5652 5.4), not as tagged [0]
        return self._encode(value, self._sign(b"\x31" + attributes[1:]))


_lock = threading.Lock()


def fast_signer(signer: pades.Signer) -> FastSigner | None:
    """The fast signer of pyHanko's signer, made once and kept on it; None when its key or
    algorithm has no fast path here (render.render then lets pyHanko sign)."""
    with _lock:
        if signer.fast is None:
            try:
                signer.fast = FastSigner(signer)
            except ValueError:
                signer.fast = False
        return signer.fast or None
