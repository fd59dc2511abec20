"""PAdES signatures on certificate PDFs, checked by two independent validators: poppler's
pdfsig (what PDF readers on Linux use) and pyHanko's own, trusting a throwaway CA made here.
A flipped byte breaks both; no configuration means no signature and a document that says so;
a bad key or certificate file is a ConfigError naming it."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from certificates import pades, render, stamp
from certificates.models import Certificate
from lms.errors import ConfigError

PEM = serialization.Encoding.PEM
SETTINGS = (pades.KEY_SETTING, pades.CERT_SETTING)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=sign,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def _certificate(subject: str, public_key, issuer: str, issuer_key, *, ca: bool,
                 usage: x509.KeyUsage) -> x509.Certificate:
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(issuer_key, hashes.SHA256()))


def _key_pem(key) -> bytes:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Pki:
    """A throwaway CA and an ECDSA P-256 signing certificate it issued, as PEM files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _certificate("Hocvuso Test CA", self.ca_key.public_key(), "Hocvuso Test CA",
                               self.ca_key, ca=True, usage=_usage(ca=True))
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = self.issue(self.key.public_key())
        self.key_file = self.write("signer.key", _key_pem(self.key))
        # The signer's certificate, then its chain (what the setting documents).
        self.cert_file = self.write("signer.pem", self.cert.public_bytes(PEM)
                                    + self.ca.public_bytes(PEM))

    def issue(self, public_key, usage: x509.KeyUsage | None = None) -> x509.Certificate:
        return _certificate("Trường THCS Thử Nghiệm", public_key, "Hocvuso Test CA",
                            self.ca_key, ca=False, usage=usage or _usage(sign=True))

    def write(self, name: str, data: bytes) -> str:
        path = self.root / name
        path.write_bytes(data)
        return str(path)

    def validation_context(self) -> ValidationContext:
        der = self.ca.public_bytes(serialization.Encoding.DER)
        return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])


@pytest.fixture
def pki(tmp_path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
def configure(app):
    """Set the signing settings for one test; the app is shared, so put them back after."""
    saved = {k: app.config.get(k) for k in SETTINGS}

    def set_files(key_file: str | None, cert_file: str | None) -> None:
        app.config[pades.KEY_SETTING] = key_file
        app.config[pades.CERT_SETTING] = cert_file

    with app.app_context():
        yield set_files
    app.config.update(saved)


def _cert() -> Certificate:
    return Certificate(
        id=4321, code="k7q2m5x9b3n8c4v6z1w0a2s4d6f8g0h2", version=1,
        full_name="Nguyễn Thị Ánh Tuyết", birth_on=date(2011, 3, 9),
        course_code="ATGT-HS", course_version=2, course_title_vi="An toàn giao thông",
        course_title_en="Traffic safety", completed_on=date(2026, 11, 2),
        unit_name="Trường THCS Nguyễn Du", unit_parent_name="UBND xã Thử Nghiệm",
        issued_at=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))


@pytest.fixture(params=["stamped", "whole"])
def way(request, monkeypatch):
    """Each signature test for both ways of making the PDF: stamped on the laid-out page
    (signed by certificates/cms.py) and laid out whole by WeasyPrint (signed by pyHanko)."""
    stamp.pages.clear()
    if request.param == "whole":
        def refuse(*_args, **_kwargs):
            raise stamp.NotStampable("laid out whole for this test")
        monkeypatch.setattr(render, "stamped", refuse)
    return request.param


def _render(way: str | None = None) -> tuple[bytes, bool]:
    pdf, signed = render.render(_cert(), issuer_parent="UBND xã Thử Nghiệm")
    if way is not None:
        assert (b"/BaseFont /HVSBLD+" in pdf) is (way == "stamped")
    return pdf, signed


def _pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                          check=False).stdout


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return " ".join(raw.split())  # the note may wrap anywhere


def _embedded(pdf: bytes):
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    return signatures[0]


def _flip_in_signed_range(pdf: bytes) -> bytes:
    """One bit changed inside a content stream, which lies in the first signed range: the
    file still parses, only the digest differs."""
    data = bytearray(pdf)
    at = data.index(b"stream", 1000) + 20
    assert at < data.index(b"/ByteRange")
    data[at] ^= 0x01
    return bytes(data)


def test_signed_pdf_is_valid_for_pdfsig_and_pyhanko(configure, pki, tmp_path, way):
    configure(pki.key_file, pki.cert_file)
    pdf, signed = _render(way)
    assert signed

    report = _pdfsig(pdf, tmp_path)
    assert "Signature Field Name: HocvusoSignature" in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Total document signed" in report
    assert "Signature Validation: Signature is Valid." in report
    # pdfsig does not know our throwaway CA; pyHanko below is told to trust it.
    assert "Certificate issuer isn't Trusted" in report

    embedded = _embedded(pdf)
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert embedded.field_name == pades.FIELD_NAME
    status = validate_pdf_signature(embedded, pki.validation_context())
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject == asn1_x509.Certificate.load(
        pki.cert.public_bytes(serialization.Encoding.DER)).subject

    text = _text(pdf, tmp_path)
    assert "Nguyễn Thị Ánh Tuyết" in text
    assert "có chữ ký số của đơn vị cấp" in text
    assert "không có chữ ký số" not in text


def test_pyhanko_does_not_trust_an_unknown_ca(configure, pki, tmp_path):
    configure(pki.key_file, pki.cert_file)
    pdf, _ = _render()
    (tmp_path / "stranger").mkdir()
    stranger = Pki(tmp_path / "stranger")  # same names, another CA key
    status = validate_pdf_signature(_embedded(pdf), stranger.validation_context())
    assert status.intact and status.valid
    assert not status.trusted and not status.bottom_line


def test_one_flipped_byte_invalidates_the_signature(configure, pki, tmp_path, way):
    configure(pki.key_file, pki.cert_file)
    pdf, _ = _render(way)
    tampered = _flip_in_signed_range(pdf)

    report = _pdfsig(tampered, tmp_path)
    assert "Signature Field Name: HocvusoSignature" in report  # still read, but:
    assert "Signature is Valid" not in report
    assert "Digest Mismatch" in report

    status = validate_pdf_signature(_embedded(tampered), pki.validation_context())
    # intact: the document's digest matches the signed one; (valid only covers the CMS
    # signature over the signed attributes, which still hold the original digest).
    assert not status.intact and not status.bottom_line


def test_without_configuration_the_pdf_is_unsigned_and_says_so(configure, tmp_path, way):
    configure(None, None)
    assert pades.configured_signer() is None
    pdf, signed = _render(way)
    assert not signed

    fields = PdfReader(io.BytesIO(pdf)).get_fields() or {}
    assert not [f for f in fields.values() if f.get("/FT") == "/Sig"]
    assert b"/ByteRange" not in pdf and b"/Sig" not in pdf
    assert "does not contain any signatures" in _pdfsig(pdf, tmp_path)

    text = _text(pdf, tmp_path)
    assert "không có chữ ký số" in text
    assert "carries no digital signature" in text


def test_the_signer_is_loaded_once(configure, pki):
    configure(pki.key_file, pki.cert_file)
    assert pades.configured_signer() is pades.configured_signer()


def _refused(configure, key_file: str | None, cert_file: str | None) -> str:
    configure(key_file, cert_file)
    with pytest.raises(ConfigError) as caught:
        pades.configured_signer()
    return str(caught.value)


def test_a_key_file_that_is_not_a_key_is_refused(configure, pki):
    not_a_key = pki.write("not-a-key.pem", pki.cert.public_bytes(PEM))
    message = _refused(configure, not_a_key, pki.cert_file)
    assert not_a_key in message and pades.KEY_SETTING in message
    assert "not a PEM private key" in message


def test_missing_files_are_refused(configure, pki, tmp_path):
    missing = str(tmp_path / "nowhere" / "signer.key")
    message = _refused(configure, missing, pki.cert_file)
    assert missing in message and pades.KEY_SETTING in message
    missing = str(tmp_path / "nowhere.pem")
    message = _refused(configure, pki.key_file, missing)
    assert missing in message and pades.CERT_SETTING in message


def test_a_certificate_file_without_a_certificate_is_refused(configure, pki):
    message = _refused(configure, pki.key_file, pki.key_file)
    assert pki.key_file in message and pades.CERT_SETTING in message


def test_a_key_that_does_not_match_the_certificate_is_refused(configure, pki):
    other = pki.write("other.key", _key_pem(ec.generate_private_key(ec.SECP256R1())))
    message = _refused(configure, other, pki.cert_file)
    assert other in message and pki.cert_file in message
    assert "is not the key of the first certificate" in message


def test_half_a_configuration_is_refused(configure, pki):
    assert pades.CERT_SETTING in _refused(configure, pki.key_file, None)
    assert pades.KEY_SETTING in _refused(configure, None, pki.cert_file)


def test_unusable_keys_are_refused(configure, pki):
    encrypted = pki.write("encrypted.key", pki.key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")))
    assert "is encrypted" in _refused(configure, encrypted, pki.cert_file)

    edwards = ed25519.Ed25519PrivateKey.generate()
    edwards_key = pki.write("ed25519.key", _key_pem(edwards))
    edwards_cert = pki.write("ed25519.pem", pki.issue(edwards.public_key()).public_bytes(PEM))
    assert "not supported" in _refused(configure, edwards_key, edwards_cert)

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (refused)
    weak_key = pki.write("weak.key", _key_pem(weak))
    weak_cert = pki.write("weak.pem", pki.issue(weak.public_key()).public_bytes(PEM))
    assert "1024 bits" in _refused(configure, weak_key, weak_cert)

    secp256k1 = ec.generate_private_key(ec.SECP256K1())
    k1_key = pki.write("k1.key", _key_pem(secp256k1))
    k1_cert = pki.write("k1.pem", pki.issue(secp256k1.public_key()).public_bytes(PEM))
    assert "secp256k1" in _refused(configure, k1_key, k1_cert)


def test_a_certificate_not_for_signing_is_refused(configure, pki):
    encipher_only = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=True,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False)
    cert_file = pki.write("encipher.pem", pki.issue(pki.key.public_key(), encipher_only)
                          .public_bytes(PEM))
    message = _refused(configure, pki.key_file, cert_file)
    assert cert_file in message and "key usage" in message


def test_an_rsa_key_signs_too(configure, pki, way):
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    key_file = pki.write("rsa.key", _key_pem(key))
    cert_file = pki.write("rsa.pem", pki.issue(key.public_key()).public_bytes(PEM)
                          + pki.ca.public_bytes(PEM))
    configure(key_file, cert_file)
    pdf, signed = _render(way)
    assert signed
    status = validate_pdf_signature(_embedded(pdf), pki.validation_context())
    assert status.bottom_line and status.coverage.name == "ENTIRE_FILE"
