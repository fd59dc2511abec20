"""A certificate's PDF: HTML through WeasyPrint (lms.pdf: only static/ is reachable, the shipped
Noto Serif subset embedded), a QR code drawn by segno as inline SVG, then a PAdES signature
when a signing key is configured. The document text is bilingual and fixed, so it does not
depend on who downloads it."""

from __future__ import annotations

import io
import unicodedata
from datetime import date
from pathlib import Path

import segno
from flask import current_app

from certificates import offline, pades
from certificates.models import LOCAL_TZ, Certificate
from lms.pdf import render_pdf, template_environment

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "documents/certificate.html"
PLATFORM = "NỀN TẢNG BÌNH DÂN HỌC VỤ SỐ"
QR_NAME = "qr.png"
QR_MASK = 0

CERTIFICATE_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { margin: 0; font-size: 12.5pt; line-height: 1.3; }
.frame { border: 2.2pt double #7a1f1f; height: 182mm; padding: 7mm 12mm 5mm;
  box-sizing: border-box; position: relative; }
table.masthead { width: 100%; border-collapse: collapse; margin-bottom: 6mm; }
table.masthead td { vertical-align: top; text-align: center; padding: 0; }
td.issuer { width: 42%; font-size: 11.5pt; }
td.motto { width: 58%; }
.parent { text-transform: uppercase; }
.unit { font-weight: bold; text-transform: uppercase; overflow-wrap: anywhere; }
.rule-short { width: 30%; margin: 1pt auto 0; border-top: 0.6pt solid black; }
.nation { font-weight: bold; font-size: 12pt; white-space: nowrap; }
.motto-line { font-weight: bold; font-size: 12.5pt; }
.motto-line span { display: inline-block; border-bottom: 0.6pt solid black; padding-bottom: 1pt; }
h1 { font-size: 21pt; text-align: center; color: #7a1f1f; margin: 0; letter-spacing: 0.5pt; }
.title-en { text-align: center; font-style: italic; margin: 0 0 4mm; }
p { margin: 0 0 1.5mm; text-align: center; }
.en { font-style: italic; color: #333; }
.lead { font-size: 12pt; }
.name { font-weight: bold; color: #10306b; margin: 2mm 0 2.5mm; line-height: 1.15;
  overflow-wrap: anywhere; }
.name-xl { font-size: 28pt; }
.name-l { font-size: 23pt; }
.name-m { font-size: 18pt; }
.name-s { font-size: 15pt; }
.course { font-weight: bold; font-size: 16pt; margin-top: 1mm; overflow-wrap: anywhere; }
.course-en { font-style: italic; font-size: 12pt; }
.line { font-size: 11.5pt; }
table.foot { position: absolute; left: 12mm; right: 12mm; bottom: 6mm; width: auto;
  border-collapse: collapse; }
table.foot td { vertical-align: bottom; padding: 0; }
td.ids { font-size: 9.5pt; line-height: 1.35; }
td.qr { width: 40mm; text-align: right; }
td.qr img { width: 38mm; height: 38mm; image-rendering: pixelated; }
.mono { letter-spacing: 0.3pt; }
.url { overflow-wrap: anywhere; }
.note { margin-top: 1.5mm; font-size: 8.5pt; color: #333; }
.issued { font-size: 8.5pt; color: #333; }
"""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def name_class(name: str) -> str:
    """Smaller type for longer names: up to 100 characters stay on the page."""
    size = len(name)
    if size <= 28:
        return "name-xl"
    if size <= 40:
        return "name-l"
    if size <= 60:
        return "name-m"
    return "name-s"


def verify_url(cert: Certificate) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/verify/{cert.code}"


def payload(cert: Certificate) -> str:
    return offline.sign(offline.claims_of(cert.serial, cert.course_code, cert.course_version,
                                          cert.completed_on.isoformat(), cert.full_name))


def qr_text(cert: Certificate) -> str:
    return f"{verify_url(cert)}#{payload(cert)}"


def qr_png(text: str) -> bytes:
    """One pixel per module with the standard 4-module quiet zone, drawn crisp at 38 mm
    (image-rendering: pixelated). Medium error correction survives a crease. The mask is
    fixed: scanners read it from the code itself, and trying all eight (segno's default)
    costs more than the rest of the QR code."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False, mask=QR_MASK).save(buffer, kind="png", scale=1,
                                                                border=4)
    return buffer.getvalue()


def certificate_html(cert: Certificate, *, issuer_parent: str, signed: bool) -> str:
    full_name = nfc(cert.full_name)
    return template_environment(TEMPLATES).get_template(TEMPLATE).render(
        serial=cert.serial, code=cert.code, full_name=full_name, name_class=name_class(full_name),
        birth_on=_day(cert.birth_on) if cert.birth_on else None,
        course_vi=nfc(cert.course_title_vi), course_en=nfc(cert.course_title_en or ""),
        course_code=cert.course_code, course_version=cert.course_version,
        completed_on=_day(cert.completed_on), version=cert.version,
        issuer=nfc(cert.unit_name or PLATFORM), issuer_parent=nfc(issuer_parent),
        verify_url=verify_url(cert), signed=signed,
        issued_on=_day(cert.issued_at.astimezone(LOCAL_TZ).date()))


def render(cert: Certificate, *, issuer_parent: str) -> tuple[bytes, bool]:
    """The PDF and whether it carries a PAdES signature."""
    signer = pades.configured_signer()
    html = certificate_html(cert, issuer_parent=issuer_parent, signed=signer is not None)
    pdf = render_pdf(html, stylesheets=[CERTIFICATE_CSS], created=cert.issued_at,
                     identifier=cert.code,
                     inline={QR_NAME: (qr_png(qr_text(cert)), "image/png")})
    if signer is None:
        return pdf, False
    return pades.sign(pdf, signer), True
