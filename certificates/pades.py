"""PAdES signatures (pyHanko) on certificate PDFs, when CERTIFICATE_SIGNING_KEY_FILE and
CERTIFICATE_SIGNING_CERT_FILE name a PEM private key (RSA ≥ 2048 bits or ECDSA P-256/384/521,
unencrypted) and its X.509 certificate (the file may hold the chain after it). The signer is
loaded and checked once per process: reloading the key for every document costs more than the
signature itself, and a bad file is a ConfigError naming it, not an error inside pyHanko."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from lms.errors import ConfigError

FIELD_NAME = "HocvusoSignature"
KEY_SETTING = "CERTIFICATE_SIGNING_KEY_FILE"
CERT_SETTING = "CERTIFICATE_SIGNING_CERT_FILE"
# What PDF readers (Adobe, Foxit, poppler/NSS) validate everywhere; Ed25519 is PDF 2.0 only.
_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_RSA_MIN_BITS = 2048
# Room for the CMS object beyond its certificates (signed attributes, algorithm identifiers,
# the signature: ≤ 512 bytes for RSA-4096). Reserving it up front spares pyHanko a dummy
# signature per document to estimate the size, which was half the cost of signing.
_CMS_MARGIN = 2048
REASON = "Giấy chứng nhận hoàn thành khóa học / Certificate of completion"
LOCATION = "Việt Nam"


class Signer(signers.SimpleSigner):
    """A SimpleSigner that knows the room its CMS objects need (pyHanko's bytes_reserved)."""

    bytes_reserved: int | None = None
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    fast: object = None  # certificates.cms.FastSigner once made, False when there is none


def _read(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {setting} {path}: {exc.strerror or exc}") from exc


def _private_key(path: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    data = _read(KEY_SETTING, path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted: there is no one to type a passphrase
        raise ConfigError(f"{KEY_SETTING} {path} is encrypted; give an unencrypted key "
                          "readable by the service only") from exc
    except ValueError as exc:
        raise ConfigError(f"{KEY_SETTING} {path} is not a PEM private key") from exc
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _RSA_MIN_BITS:
            raise ConfigError(f"{KEY_SETTING} {path}: RSA key of {key.key_size} bits, "
                              f"at least {_RSA_MIN_BITS} needed")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, _CURVES):
            raise ConfigError(f"{KEY_SETTING} {path}: curve {key.curve.name} is not "
                              "P-256, P-384 or P-521")
        return key
    raise ConfigError(f"{KEY_SETTING} {path}: {type(key).__name__} keys are not supported "
                      "(RSA or ECDSA)")


def _certificates(path: str) -> list[x509.Certificate]:
    data = _read(CERT_SETTING, path)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ConfigError(f"{CERT_SETTING} {path} holds no PEM X.509 certificate") from exc
    return certificates


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _check_usage(cert: x509.Certificate, path: str) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise ConfigError(f"{CERT_SETTING} {path}: the certificate's key usage allows neither "
                          "digitalSignature nor nonRepudiation")


@lru_cache(maxsize=4)
def _load(key_file: str, cert_file: str) -> Signer:
    """The signer for these files, checked: readable, parseable, a supported key type, the key
    matching the first certificate, a key usage that allows signing."""
    key = _private_key(key_file)
    own, *chain = _certificates(cert_file)
    if _spki(own.public_key()) != _spki(key.public_key()):
        raise ConfigError(f"{KEY_SETTING} {key_file} is not the key of the first certificate "
                          f"in {CERT_SETTING} {cert_file}")
    _check_usage(own, cert_file)
    der = serialization.Encoding.DER
    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    registry = SimpleCertificateStore()
    registry.register_multiple([asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain])
    signer = Signer(signing_cert=asn1_x509.Certificate.load(own.public_bytes(der)),
                    signing_key=key_info, cert_registry=registry)
    # pyHanko counts the placeholder in hex digits: two per byte of DER.
    signer.private_key = key
    signer.bytes_reserved = 2 * (sum(len(c.public_bytes(der)) for c in (own, *chain))
                                 + _CMS_MARGIN)
    return signer


def configured_signer() -> Signer | None:
    """The process's signer, or None when either setting is empty (PDFs go out unsigned).
    Raises ConfigError, naming the file, when a file cannot be used."""
    config = current_app.config
    key_file = config.get(KEY_SETTING)
    cert_file = config.get(CERT_SETTING)
    if not key_file and not cert_file:
        return None
    if not key_file or not cert_file:
        missing = KEY_SETTING if not key_file else CERT_SETTING
        raise ConfigError(f"{missing} is not set: PAdES signing needs both {KEY_SETTING} "
                          f"and {CERT_SETTING}")
    return _load(str(key_file), str(cert_file))


def sign(pdf: bytes, signer: signers.SimpleSigner) -> bytes:
    """pdf with an invisible PAdES B-B signature over the whole file (incremental update)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=REASON, location=LOCATION)
    out = signers.sign_pdf(writer, meta, signer=signer, in_place=False,
                           bytes_reserved=getattr(signer, "bytes_reserved", None))
    return out.getvalue()
