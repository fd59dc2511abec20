"""Stamped certificates (certificates/stamp.py) against the same certificate laid out whole by
WeasyPrint: the same text, each field and name line where WeasyPrint puts it, the same picture
at 40 dpi; and what cannot be stamped exactly is laid out whole."""

from __future__ import annotations

import asyncio
import hashlib
import io
import subprocess
import threading
import unicodedata
from datetime import UTC, date, datetime

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader

from certificates import cms, pades, render, stamp
from certificates.models import Certificate
from lms.pdf import layout, render_pdf
from tests.certificates.test_pdf import gray_rows

NAMES = (
    "Vũ Ý",
    "Nguyễn Thị Ngọc Ánh",
    "Hoàng Phương Nghiêng Trường Ễnh Ỷ",  # 33: the next size down
    "Ksor H'Bia Niê Kdăm Rơ Châm Y Moan Êban Hờ A Dơ Lò",  # 50
    "Ksor H'Bia Niê Kdăm Rơ Châm Y Moan Êban Hờ A Dơ Lò Thị Mỷ Sùng A Páo Nay Blúp Rcom "
    "H'Hen Niê Đinh Thị Ðào"[:100],  # two lines
)


def certificate(name: str = "Nguyễn Thị Ngọc Ánh", *, unit: str = "Trường THCS Nguyễn Du",
                number: int = 4321, version: int = 1) -> Certificate:
    return Certificate(
        id=number, code=hashlib.sha256(str(number).encode()).hexdigest()[:32], version=version,
        full_name=name, birth_on=date(2011, 3, 9), course_code="ATGT-HS", course_version=2,
        course_title_vi="An toàn giao thông", course_title_en="Traffic safety",
        completed_on=date(2026, 11, 2), unit_name=unit, unit_parent_name="UBND xã Thử Nghiệm",
        issued_at=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))


@pytest.fixture
def unsigned(app):
    saved = {k: app.config.get(k) for k in (pades.KEY_SETTING, pades.CERT_SETTING)}
    app.config.update({pades.KEY_SETTING: None, pades.CERT_SETTING: None})
    stamp.pages.clear()
    with app.app_context():
        yield
    app.config.update(saved)
    stamp.pages.clear()


def whole(cert: Certificate) -> bytes:
    html = render.certificate_html(cert, issuer_parent=cert.unit_parent_name, signed=False)
    return render_pdf(html, stylesheets=[render.CERTIFICATE_CSS], created=cert.issued_at,
                      identifier=cert.code,
                      inline={render.QR_NAME: (render.qr_png(render.qr_text(cert)),
                                               "image/png")})


def stamped(cert: Certificate) -> bytes:
    return render.stamped(cert, issuer_parent=cert.unit_parent_name, signer=None)


def words(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def png(pdf: bytes, dpi: int = 40) -> bytes:
    return subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-"],
                          input=pdf, capture_output=True, check=True).stdout


def text_boxes(cert: Certificate) -> dict[str, list[tuple[str, float, float]]]:
    """WeasyPrint's own layout of the whole certificate: (text, x, baseline) in PDF points of
    each line of the name and of each field."""
    document = layout(render.certificate_html(cert, issuer_parent=cert.unit_parent_name,
                                              signed=False),
                      stylesheets=[render.CERTIFICATE_CSS],
                      inline={render.QR_NAME: (render.qr_png(render.qr_text(cert)),
                                               "image/png")})
    height = document.pages[0].height
    found: dict[str, list] = {}

    def walk(box, owner):
        element = getattr(box, "element", None)
        if element is not None and (element.get("id") or "").startswith("v-"):
            owner = element.get("id")[2:]
        if type(box).__name__ == "TextBox" and owner and box.text.strip():
            found.setdefault(owner, []).append(
                (box.text, box.position_x * stamp.PX,
                 (height - box.position_y - box.baseline) * stamp.PX))
        for child in getattr(box, "children", ()):
            walk(child, owner)

    walk(document.pages[0]._page_box, None)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_stamped_text_is_the_whole_layouts_text(unsigned, name):
    cert = certificate(unicodedata.normalize("NFD", name))
    fast, slow = stamped(cert), whole(cert)
    assert b"/BaseFont /HVSBLD+" in fast
    assert words(fast) == words(slow)
    assert name in words(fast)  # NFC, whatever was given
    assert len(PdfReader(io.BytesIO(fast)).pages) == 1


@pytest.mark.parametrize("name", NAMES)
def test_every_field_and_name_line_lands_where_weasyprint_puts_it(unsigned, name):
    cert = certificate(name)
    page = render.stamp_page(cert, issuer_parent=cert.unit_parent_name, signed=False)
    fields = render.stamp_fields(cert)
    expected = text_boxes(cert)
    for field, text, x, baseline in stamp.field_texts(page, fields):
        (want_text, want_x, want_baseline), = expected[field]
        assert (text, round(x, 2), round(baseline, 2)) == \
            (want_text, round(want_x, 2), round(want_baseline, 2)), field
    _size, lines = stamp.name_placement(page, fields)
    want = expected["name"]
    assert [t.strip() for t, _x, _y in want] == [t for t, _x, _y in lines]
    for (_t, x, y), (_w, want_x, want_y) in zip(lines, want, strict=True):
        assert abs(y - want_y) < 0.05  # the same baseline
        assert abs(x - want_x) < 1.5  # centred alike (WeasyPrint kerns, a stamp does not)


@pytest.mark.parametrize("name", [NAMES[1], NAMES[-1]])
def test_the_stamped_page_looks_like_the_whole_one(unsigned, name):
    """Pixel for pixel at 40 dpi, the QR code included (the same modules, unsmoothed)."""
    cert = certificate(name)
    fast, slow = gray_rows(png(stamped(cert))), gray_rows(png(whole(cert)))
    assert len(fast) == len(slow)
    differ = [(r, c) for r, (ra, rb) in enumerate(zip(fast, slow, strict=True))
              for c, (a, b) in enumerate(zip(ra, rb, strict=True)) if abs(a - b) > 96]
    ink = sum(v < 128 for row in slow for v in row)
    assert ink > 5000  # a page with text and a QR code on it
    assert len(differ) < ink / 200, differ[:20]  # a kerned pair may move a pixel


def test_the_qr_code_on_a_stamped_page_decodes(unsigned):
    cert = certificate()
    image = png(stamped(cert), dpi=200)
    scanned = subprocess.run(["zbarimg", "--raw", "-q", "-"], input=image,
                             capture_output=True, check=True).stdout.decode().strip()
    assert scanned == render.qr_text(cert)


@pytest.mark.parametrize("name", [
    "Nǂu Văn An",  # a letter of the shipped font outside the stamp's cut
    "W" * 100,  # one word wider than the name's box
])
def test_what_cannot_be_stamped_exactly_is_laid_out_whole(unsigned, name):
    cert = certificate(name)
    with pytest.raises(stamp.NotStampable):
        stamped(cert)
    pdf, signed = render.render(cert, issuer_parent=cert.unit_parent_name)
    assert not signed and b"/BaseFont /HVSBLD+" not in pdf
    assert name in words(pdf).replace(" ", "") or name in words(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_an_address_wider_than_its_line_is_laid_out_whole(unsigned, app):
    app.config["PUBLIC_URL"], saved = "https://" + "x" * 120 + ".gov.vn", app.config["PUBLIC_URL"]
    try:
        with pytest.raises(stamp.NotStampable, match="url"):
            stamped(certificate())
    finally:
        app.config["PUBLIC_URL"] = saved


def test_each_issuer_and_reissue_has_its_own_page(unsigned):
    first = stamped(certificate(unit="Trường Tiểu học Kim Đồng", number=1))
    second = stamped(certificate(unit="Trường THCS Lê Lợi", number=2))
    reissue = stamped(certificate(unit="Trường THCS Lê Lợi", number=3, version=2))
    assert "TRƯỜNG TIỂU HỌC KIM ĐỒNG" in words(first)
    assert "LÊ LỢI" not in words(first)
    assert "TRƯỜNG THCS LÊ LỢI" in words(second) and "Bản cấp lại" not in words(second)
    assert "Bản cấp lại lần 1" in words(reissue)
    assert len(stamp.pages.pages) == 3


def test_stamped_documents_are_byte_identical_each_time(unsigned):
    cert = certificate()
    first = stamped(cert)
    stamp.pages.clear()  # laid out again: the same page, the same bytes
    assert stamped(cert) == first
    assert stamped(certificate(number=99)) != first


def test_a_page_is_laid_out_once_however_many_threads_ask():
    cache = stamp.PageCache(capacity=2)
    built = []
    gate = threading.Barrier(8)

    def build():
        built.append(1)
        return "page"

    def ask():
        gate.wait()
        assert cache.get(("k",), build) == "page"

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1]
    cache.get(("a",), lambda: "a")
    cache.get(("b",), lambda: "b")
    assert list(cache.pages) == [("a",), ("b",)]  # the least recently used went first

    def refuse():
        built.append(2)
        raise stamp.NotStampable("no")

    for _ in range(2):  # a page that cannot be stamped is not laid out again either
        with pytest.raises(stamp.NotStampable):
            cache.get(("bad",), refuse)
    assert built == [1, 2]


def test_the_fast_cms_is_pyhankos_with_the_documents_digest(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    from tests.certificates.test_pades import Pki

    pki = Pki(tmp_path)
    key_file = pki.write("k.pem", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cert_file = pki.write("c.pem", pki.issue(key.public_key()).public_bytes(
        serialization.Encoding.PEM))
    signer = pades._load(key_file, cert_file)
    fast = cms.fast_signer(signer)
    assert fast is not None and cms.fast_signer(signer) is fast
    data = (b"first range", b"second range")
    ours = asn1_cms.ContentInfo.load(fast(*data))
    digest = hashlib.sha256(b"".join(data)).digest()
    theirs = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    mine, reference = ours["content"]["signer_infos"][0], theirs["content"]["signer_infos"][0]
    assert mine["signed_attrs"].dump() == reference["signed_attrs"].dump()
    assert [a["type"].native for a in mine["signed_attrs"]] == \
        ["content_type", "message_digest", "signing_certificate_v2"]
    key.public_key().verify(mine["signature"].native, b"\x31" + mine["signed_attrs"].dump()[1:],
                            ec.ECDSA(hashes.SHA256()))
    assert ours["content"]["certificates"].dump() == theirs["content"]["certificates"].dump()


def test_the_cut_fonts_are_the_same_bytes_in_every_process():
    """Stamped documents do not depend on when the process cut its fonts."""
    import sys

    from certificates.stamp_font import stamp_font

    script = ("import hashlib; from certificates.stamp_font import stamp_font; "
              "print(*(hashlib.sha256(stamp_font(w).data).hexdigest() "
              "for w in ('bold', 'regular')))")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout.split()
    assert other == [hashlib.sha256(stamp_font(w).data).hexdigest()
                     for w in ("bold", "regular")]


def test_every_diacritic_shows_at_50_dpi_on_a_stamped_page(unsigned):
    """As test_pdf's check of the whole layout: an NFD name draws exactly like the NFC one,
    and the marks add ink where the same name without them has none."""
    name = NAMES[1]
    bare = "".join(c for c in unicodedata.normalize("NFD", name)
                   if not unicodedata.combining(c)).replace("đ", "d")
    pages = {label: gray_rows(png(stamped(certificate(text)), dpi=50))
             for label, text in (("nfc", name), ("nfd", unicodedata.normalize("NFD", name)),
                                 ("bare", bare))}
    assert pages["nfc"] == pages["nfd"]
    differing = [r for r, (a, b) in enumerate(zip(pages["nfc"], pages["bare"], strict=True))
                 if a != b]
    assert differing, "the marks are invisible"
    ink = sum(255 - v for r in differing for v in pages["nfc"][r])
    assert ink > sum(255 - v for r in differing for v in pages["bare"][r])


def _embedded_font(pdf: bytes, prefix: str):
    from fontTools.ttLib import TTFont

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        if font["/BaseFont"].startswith(f"/{prefix}+"):
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            data = descriptor.get_object()["/FontFile2"].get_object().get_data()
            return data, TTFont(io.BytesIO(data))
    raise AssertionError(f"no {prefix} font")


def test_a_stamped_certificate_carries_only_the_glyphs_it_draws(unsigned):
    from certificates.stamp_font import stamp_font

    name = "Nguyễn Thị Ngọc Ánh"
    pdf = stamped(certificate(name))
    bold = stamp_font("bold")
    _data, font = _embedded_font(pdf, "HVSBLD")
    order = font.getGlyphOrder()
    for char in set(name):  # glyph ids kept: the PDF's widths and ToUnicode still apply
        glyph = bold.glyphs[char]
        assert font["hmtx"][order[glyph]][0] * 1000 // font["head"].unitsPerEm == \
            bold.advances[glyph]

    def drawn(char: str) -> bool:
        glyph = bold.glyphs[char]  # HarfBuzz drops the empty ones after the last kept
        return glyph < len(order) and font["glyf"][order[glyph]].numberOfContours != 0

    assert all(drawn(c) for c in name.replace(" ", ""))
    assert not drawn("Q") and not drawn("ỹ")  # in the cut, not on this certificate
    assert words(pdf).count(name) == 1


def test_without_harfbuzz_the_whole_cut_font_goes_in(unsigned, monkeypatch):
    from certificates import font_subset
    from certificates.stamp_font import stamp_font

    monkeypatch.setattr(font_subset, "_libraries", None)
    pdf = stamped(certificate())
    data, _font = _embedded_font(pdf, "HVSBLD")
    assert data == stamp_font("bold").data
    assert "Nguyễn Thị Ngọc Ánh" in words(pdf)
