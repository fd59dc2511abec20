"""A certificate's PDF: HTML through WeasyPrint (lms.pdf: only static/ is reachable, the shipped
Noto Serif subset embedded), a QR code drawn by segno, then a PAdES signature when a signing
key is configured. The document text is bilingual and fixed, so it does not depend on who
downloads it.

Most certificates are stamped (certificates/stamp.py): the page WeasyPrint laid out once for
their issuer and course, with the learner's fields and QR code drawn on it. The rest (a
character the stamp font lacks, a name too long for its box) are laid out whole, as before."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from datetime import date
from pathlib import Path

from flask import current_app

from certificates import cms, offline, pades, stamp
from certificates.models import LOCAL_TZ, Certificate
from lms.pdf import render_pdf, template_environment

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "documents/certificate.html"
PLATFORM = "NỀN TẢNG BÌNH DÂN HỌC VỤ SỐ"
QR_NAME = "qr.png"
log = logging.getLogger(__name__)

# Name sizes by length, largest first: the name's box holds one line of the largest or two of
# the smallest, so the rest of the page never moves, and a stamped certificate knows where
# each line goes (from the top of the box down).
NAME_SIZES = (("name-xl", 28, 28.0), ("name-l", 40, 23.0), ("name-m", 60, 18.0),
              ("name-s", None, 15.0))  # (class, up to this many characters, points)
NAME_LINE_HEIGHT = 1.15
NAME_BOX_MM = 12.5

CERTIFICATE_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { margin: 0; font-size: 12.5pt; line-height: 1.3; }
.frame { border: 2.2pt double #7a1f1f; height: 182mm; padding: 7mm 12mm 5mm;
  box-sizing: border-box; position: relative; }
table.masthead { width: 100%; border-collapse: collapse; margin-bottom: 6mm; table-layout: fixed; }
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
.name-box { height: NAME_BOX_MM; margin: 2mm 0 2.5mm; }
.name { margin: 0; font-weight: bold; color: #10306b; line-height: NAME_LINE_HEIGHT;
  overflow-wrap: anywhere; }
NAME_SIZES_CSS
.course { font-weight: bold; font-size: 16pt; margin-top: 1mm; overflow-wrap: anywhere; }
.course-en { font-style: italic; font-size: 12pt; }
.line { font-size: 11.5pt; }
.foot-box { position: absolute; left: 12mm; right: 12mm; bottom: 6mm; }
table.foot { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.foot td { vertical-align: bottom; padding: 0; }
td.ids { font-size: 9.5pt; line-height: 1.35; }
td.qr { width: 40mm; text-align: right; }
td.qr img, .qr-spot { width: 38mm; height: 38mm; image-rendering: pixelated; }
.qr-spot { display: inline-block; }
.stamp { visibility: hidden; }
.mono { letter-spacing: 0.3pt; }
.url { overflow-wrap: anywhere; }
.note { margin-top: 1.5mm; font-size: 8.5pt; color: #333; }
.issued { font-size: 8.5pt; color: #333; }
""".replace("NAME_BOX_MM", f"{NAME_BOX_MM}mm").replace(
    "NAME_LINE_HEIGHT", str(NAME_LINE_HEIGHT)).replace(
    "NAME_SIZES_CSS", "".join(f".{cls} {{ font-size: {pt}pt; }}\n" for cls, _n, pt in NAME_SIZES))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def name_class(name: str) -> str:
    """Smaller type for longer names: up to 100 characters stay on the page."""
    return next(cls for cls, most, _pt in NAME_SIZES if most is None or len(name) <= most)


def verify_url(cert: Certificate) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/verify/{cert.code}"


def payload(cert: Certificate) -> str:
    return offline.sign(offline.claims_of(cert.serial, cert.course_code, cert.course_version,
                                          cert.completed_on.isoformat(), cert.full_name))


def qr_text(cert: Certificate) -> str:
    return f"{verify_url(cert)}#{payload(cert)}"


def qr_png(text: str) -> bytes:
    """One pixel per module with the standard 4-module quiet zone, drawn crisp at 38 mm
    (image-rendering: pixelated); the code of stamp.qr_code, as a stamped page draws it."""
    buffer = io.BytesIO()
    stamp.qr_code(text).save(buffer, kind="png", scale=1, border=4)
    return buffer.getvalue()


def _zeros(text: str) -> str:
    """A stand-in of the same width: the shipped font's digits are all equally wide."""
    return re.sub(r"[0-9]", "0", text)


def certificate_html(cert: Certificate, *, issuer_parent: str, signed: bool,
                     stamp: bool = False) -> str:
    """The certificate's HTML; with stamp, the page for certificates/stamp.py, where what
    differs from one learner to the next is an invisible stand-in of the same width (the
    name and the QR code an empty box of their own size)."""
    full_name = nfc(cert.full_name)
    fields = {"full_name": full_name, "serial": cert.serial, "code": cert.code,
              "birth_on": _day(cert.birth_on) if cert.birth_on else None,
              "completed_on": _day(cert.completed_on), "verify_url": verify_url(cert),
              "issued_on": _day(cert.issued_at.astimezone(LOCAL_TZ).date())}
    if stamp:  # nothing of this learner's: the page is shared by every certificate like it
        blank = "0" * len(cert.code)
        fields = {k: _zeros(v) if v else v for k, v in fields.items()}
        fields.update(full_name="", code=blank,
                      verify_url=verify_url(cert).removesuffix(cert.code) + blank)
    return template_environment(TEMPLATES).get_template(TEMPLATE).render(
        **fields, name_class=name_class(full_name), stamp=stamp,
        course_vi=nfc(cert.course_title_vi), course_en=nfc(cert.course_title_en or ""),
        course_code=cert.course_code, course_version=cert.course_version,
        version=cert.version, issuer=nfc(cert.unit_name or PLATFORM),
        issuer_parent=nfc(issuer_parent), signed=signed)


def _page_key(cert: Certificate, issuer_parent: str, signed: bool) -> tuple:
    """Everything the stamp page of certificate_html(stamp=True) depends on."""
    return (signed, nfc(issuer_parent), nfc(cert.unit_name or PLATFORM),
            nfc(cert.course_title_vi), nfc(cert.course_title_en or ""), cert.course_code,
            cert.course_version, cert.version, cert.birth_on is not None, _zeros(cert.serial),
            len(cert.code), current_app.config["PUBLIC_URL"])


def stamp_page(cert: Certificate, *, issuer_parent: str, signed: bool) -> stamp.Page:
    """The laid-out page this certificate is stamped on, made once per process and key."""
    key = _page_key(cert, issuer_parent, signed)

    def lay_out() -> stamp.Page:
        return stamp.lay_out(
            certificate_html(cert, issuer_parent=issuer_parent, signed=signed, stamp=True),
            [CERTIFICATE_CSS], signed=signed,
            identifier=hashlib.sha256(repr(key).encode()).hexdigest()[:32])

    return stamp.pages.get(key, lay_out)


def stamp_fields(cert: Certificate) -> stamp.Fields:
    """What this certificate writes on its page, as certificate_html would show it."""
    full_name = " ".join(nfc(cert.full_name).split())  # HTML collapses spaces
    own = [cls for cls, _n, _pt in NAME_SIZES].index(name_class(full_name))
    return stamp.Fields(
        name=full_name, name_sizes=tuple(pt for _c, _n, pt in NAME_SIZES[own:]),
        name_line_height=NAME_LINE_HEIGHT,
        values={"birth": _day(cert.birth_on) if cert.birth_on else "",
                "completed": _day(cert.completed_on), "serial": cert.serial,
                "code": cert.code, "url": verify_url(cert),
                "issued": _day(cert.issued_at.astimezone(LOCAL_TZ).date())},
        qr_text=qr_text(cert), title=cert.serial, created=cert.issued_at,
        identifier=cert.code)


def stamped(cert: Certificate, *, issuer_parent: str,
            signer: pades.Signer | None) -> bytes:
    """The certificate stamped on its laid-out page (certificates/stamp.py), signed with the
    fast CMS encoding when signer is given. Raises stamp.NotStampable."""
    fast = cms.fast_signer(signer) if signer is not None else None
    if signer is not None and fast is None:
        raise stamp.NotStampable("no fast signature for this key")
    page = stamp_page(cert, issuer_parent=issuer_parent, signed=signer is not None)
    return stamp.assemble(page, stamp_fields(cert), fast, reason=pades.REASON,
                          location=pades.LOCATION)


def render(cert: Certificate, *, issuer_parent: str) -> tuple[bytes, bool]:
    """The PDF and whether it carries a PAdES signature: stamped on the laid-out page when
    it can be, otherwise laid out whole by WeasyPrint and signed by pyHanko."""
    signer = pades.configured_signer()
    try:
        return stamped(cert, issuer_parent=issuer_parent, signer=signer), signer is not None
    except stamp.NotStampable as exc:
        log.info("certificate laid out whole: %s", exc)  # never the name itself
    html = certificate_html(cert, issuer_parent=issuer_parent, signed=signer is not None)
    pdf = render_pdf(html, stylesheets=[CERTIFICATE_CSS], created=cert.issued_at,
                     identifier=cert.code,
                     inline={QR_NAME: (qr_png(qr_text(cert)), "image/png")})
    if signer is None:
        return pdf, False
    return pades.sign(pdf, signer), True
