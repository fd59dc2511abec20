"""The certificate PDF: every Vietnamese name exactly (NFC), all fonts embedded, diacritics
visible at 50 dpi, long names on one page, hostile names as text with nothing fetched, stored
once and served byte-identical with its hash."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from certificates import service, stamp
from lms import pdf as lms_pdf
from lms.people.models import Role
from tests.support.factories import login

NAME = "Nguyễn Thị Ngọc Ánh"


def text_of(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()


def png_of(data: bytes, dpi: int = 50) -> bytes:
    return subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-"],
                          input=data, capture_output=True, check=True).stdout


def gray_rows(png: bytes) -> list[list[int]]:
    """Pixel rows of a PNG as 0–255 grey values, read with the PDF tools' own converter."""
    from PIL import Image  # Pillow comes with WeasyPrint

    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    data = image.tobytes()
    return [list(data[r * width:(r + 1) * width]) for r in range(height)]


def test_nfd_name_comes_out_exactly_nfc_with_fonts_embedded(db, complete):
    nfd = unicodedata.normalize("NFD", NAME)
    assert nfd != NAME
    _user, _e, cert = complete(nfd)
    assert cert.full_name == NAME  # normalised at issue
    data = service.pdf_bytes(cert)
    lines = [line.strip() for line in text_of(data).splitlines()]
    assert NAME in lines  # the name's own line, exactly, in NFC
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True
                           ).stdout.decode().splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb column
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def test_diacritics_show_at_50_dpi(db, complete):
    """The name's pixels at 50 dpi differ from the same name without its marks, and an NFD
    name draws exactly like the NFC one."""
    bare = "".join(c for c in unicodedata.normalize("NFD", NAME)
                   if not unicodedata.combining(c)).replace("đ", "d")
    pngs = {}
    for label, name in (("nfc", NAME), ("nfd", unicodedata.normalize("NFD", NAME)),
                        ("bare", bare)):
        _u, _e, cert = complete(name)
        html = service.render.certificate_html(cert, issuer_parent="X", signed=False)
        # the same code and serial for all three, so that only the name differs
        html = html.replace(cert.code, "c" * 32).replace(cert.serial, "BDHVS-2026-0000001")
        html = html.split('<td class="qr">')[0] + "</table></div></body></html>"
        pngs[label] = png_of(lms_pdf.render_pdf(html, stylesheets=[service.render.CERTIFICATE_CSS]))
    assert pngs["nfc"] == pngs["nfd"]
    marked, plain = gray_rows(pngs["nfc"]), gray_rows(pngs["bare"])
    differing = [r for r, (a, b) in enumerate(zip(marked, plain, strict=True)) if a != b]
    assert differing, "the marks are invisible"
    ink = sum(255 - v for r in differing for v in marked[r])
    ink_bare = sum(255 - v for r in differing for v in plain[r])
    assert ink > ink_bare  # the marks add ink


def test_long_and_minority_names_fit_on_the_page(db, complete):
    long_name = ("Ksor H'Bia Niê Kdăm Rơ Châm Y Moan Êban Hờ A Dơ Lò Thị Mỷ Sùng A Páo "
                 "Nay Blúp Rcom H'Hen Niê Đinh Thị Ðào")[:100]
    assert len(long_name) == 100
    _u, _e, cert = complete(long_name)
    data = service.pdf_bytes(cert)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    words = " ".join(text_of(data).split())
    assert all(word in words for word in long_name.split())
    assert cert.serial in words and cert.code in words


@pytest.mark.parametrize("way", ["stamped", "whole"])
def test_hostile_name_is_text_and_fetches_nothing(db, complete, monkeypatch, way):
    fetched = []
    original = lms_pdf.StaticFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(lms_pdf.StaticFetcher, "fetch", spy)
    lms_pdf._local.__dict__.clear()  # a fresh renderer, so that fonts are fetched again
    stamp.pages.clear()  # and the page laid out again
    if way == "whole":
        def refuse(*_args, **_kwargs):
            raise stamp.NotStampable("laid out whole for this test")
        monkeypatch.setattr(service.render, "stamped", refuse)
    hostile = '<img src="file:///etc/passwd"><link rel=stylesheet href="https://evil.example/a.css">'
    _u, _e, cert = complete(hostile[:200])
    data = service.pdf_bytes(cert)
    words = " ".join(text_of(data).split())
    assert '<img src="file:///etc/passwd">' in words
    assert "root:" not in words
    allowed = (lms_pdf.BASE_URL + "fonts/", lms_pdf.INLINE_URL + "qr.png")
    assert fetched and all(u.startswith(allowed) for u in fetched), fetched
    assert (b"/BaseFont /HVSBLD+" in data) is (way == "stamped")


def test_inline_images_are_only_those_handed_over(db):
    fetcher = lms_pdf.StaticFetcher()
    fetcher.inline = {"qr.png": (b"png", "image/png")}
    assert fetcher.fetch(lms_pdf.INLINE_URL + "qr.png").read() == b"png"
    for url in (lms_pdf.INLINE_URL + "other.png", lms_pdf.INLINE_URL + "../fonts/OFL.txt",
                "file:///etc/passwd"):
        with pytest.raises(lms_pdf.ResourceRefused):
            fetcher.fetch(url)


def test_stored_once_and_served_byte_identical_with_its_hash(db, client, complete):
    user, _e, cert = complete()
    login(client, user)
    first = client.get(f"/certificates/{cert.serial}/pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    digest = hashlib.sha256(first.data).hexdigest()
    db.refresh(cert)
    assert cert.pdf_sha256 == digest and cert.pdf_signed is False
    assert first.headers["ETag"] == f'"{digest}"'
    assert first.headers["Repr-Digest"] == \
        f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
    again = client.get(f"/certificates/{cert.code}/pdf")
    assert again.data == first.data
    assert client.get(f"/certificates/{cert.serial}/pdf",
                      headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    assert "không có chữ ký số" in text_of(first.data)


def test_a_damaged_stored_file_is_never_served(db, complete, app):
    _user, _e, cert = complete()
    service.pdf_bytes(cert)
    path = (Path(app.config["STORAGE_DIR"]) / "documents" / cert.pdf_sha256[:2]
            / cert.pdf_sha256[2:4] / cert.pdf_sha256)
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-10] + b"tampered!!")
        with pytest.raises(RuntimeError, match="missing or damaged"):
            service.pdf_bytes(cert)
    finally:
        path.write_bytes(original)


def test_school_admin_sees_unit_certificates(db, client, complete, make, school):
    _user, _e, cert = complete()
    admin = make.person(Role.UNIT_ADMIN, school[0])
    login(client, admin)
    page = client.get(f"/units/{school[0].code}/certificates")
    assert page.status_code == 200 and cert.serial in page.get_data(as_text=True)
