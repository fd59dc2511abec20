"""lms/pdf.py: resources only from static/, the shipped font embedded, reproducible bytes; and
the shipped font covers Vietnamese (real PDFs read back with poppler, no mocks)."""

from __future__ import annotations

import io
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from lms.pdf import (
    BASE_URL,
    STATIC_DIR,
    ResourceRefused,
    StaticFetcher,
    render_pdf,
    static_path,
    template_environment,
)

VIETNAMESE_UPPER = "ẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸĐ"
TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
VOWELS = "aăâeêioôơuưy"


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdffonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


def vietnamese_letters() -> set[str]:
    letters = set(VIETNAMESE_UPPER + VIETNAMESE_UPPER.lower() + "đĐ")
    for vowel in VOWELS + VOWELS.upper():
        letters.add(vowel)
        letters |= {unicodedata.normalize("NFC", vowel + tone) for tone in TONES}
    return letters


@pytest.mark.parametrize("style", ["Regular", "Bold", "Italic", "BoldItalic"])
def test_the_shipped_font_has_every_vietnamese_letter_and_the_combining_marks(style):
    font = TTFont(STATIC_DIR / "fonts" / f"NotoSerif-{style}.ttf")
    cmap = font.getBestCmap()
    letters = vietnamese_letters()
    assert len(letters) > 130
    assert sorted(c for c in letters if ord(c) not in cmap) == []
    assert all(ord(mark) in cmap for mark in TONES + "\u0302\u0306\u031b")
    gsub = {r.FeatureTag for r in font["GSUB"].table.FeatureList.FeatureRecord}
    gpos = {r.FeatureTag for r in font["GPOS"].table.FeatureList.FeatureRecord}
    assert {"ccmp", "liga"} <= gsub and {"kern", "mark", "mkmk"} <= gpos


def test_the_font_licence_and_its_provenance_ship_with_the_fonts():
    licence = (STATIC_DIR / "fonts" / "OFL.txt").read_text(encoding="utf-8")
    assert "Copyright 2015 Google LLC" in licence
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "subset.py" in (STATIC_DIR / "fonts" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:9/x.png",
    "https://example.com/fonts/NotoSerif-Regular.ttf",
    "data:image/png;base64,iVBORw0KGgo=",
    f"{BASE_URL}../../etc/passwd",
    f"{BASE_URL}fonts/%2e%2e/%2e%2e/lms/pdf.py",
    f"{BASE_URL}fonts/..%2F..%2Flms%2Fpdf.py",
    f"{BASE_URL}fonts/",
    f"{BASE_URL}fonts/missing.ttf",
])
def test_the_fetcher_refuses_everything_outside_static(url):
    with pytest.raises(ResourceRefused):
        static_path(url)
    with pytest.raises(ResourceRefused):
        StaticFetcher().fetch(url)


def test_the_fetcher_serves_static_files():
    response = StaticFetcher().fetch(f"{BASE_URL}fonts/NotoSerif-Regular.ttf")
    assert response.read() == (STATIC_DIR / "fonts" / "NotoSerif-Regular.ttf").read_bytes()


def test_a_symbolic_link_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ResourceRefused):
        static_path(f"{BASE_URL}link.txt", root)


def test_hostile_references_fetch_nothing_and_the_document_still_renders(tmp_path):
    html = """<html><head>
      <link rel="stylesheet" href="https://example.com/evil.css">
      <style>@import url("file:///etc/passwd"); body { background: url(http://127.0.0.1:9/b.png) }
      </style></head><body>
      <p>Văn bản vẫn hiển thị</p>
      <img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">
      <img src="../../../../etc/passwd"><img src="data:image/png;base64,iVBORw0KGgo=">
      <object data="file:///etc/hostname"></object>
    </body></html>"""
    pdf = render_pdf(html)
    text = pdftotext(pdf, tmp_path)
    assert "Văn bản vẫn hiển thị" in text
    assert "root:" not in text
    assert b"root:x:" not in pdf


def test_the_shipped_font_is_embedded_for_every_style(tmp_path):
    pdf = render_pdf("<p>Thường <b>Đậm</b> <i>Nghiêng</i> <b><i>Đậm nghiêng</i></b></p>")
    fonts = pdffonts(pdf, tmp_path)
    names = sorted(row[0].split("+", 1)[1] for row in fonts)
    assert names == ["Hocvuso-Serif", "Hocvuso-Serif-Bold", "Hocvuso-Serif-Bold-Italic",
                     "Hocvuso-Serif-Italic"]
    # columns: name, type (2 words), encoding, emb, sub, uni, object, generation
    assert all(row[-5] == "yes" for row in fonts), fonts


def test_a_name_in_nfd_renders_with_its_marks(tmp_path):
    """lms/pdf does not normalise (callers do, DESIGN.md); the font's mark positioning still
    renders combining marks, and the text extracts as the same name."""
    name = "Nguyễn Thị Ngọc Ánh"
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    env = template_environment(tmp_path)
    (tmp_path / "name.html").write_text("<p>{{ name }}</p>", encoding="utf-8")
    pdf = render_pdf(env.get_template("name.html").render(name=nfd))
    assert unicodedata.normalize("NFC", pdftotext(pdf, tmp_path)).strip() == name
    assert all(row[0].split("+", 1)[1].startswith("Hocvuso-Serif")
               for row in pdffonts(pdf, tmp_path))


def test_templates_autoescape_whatever_their_name(tmp_path):
    (tmp_path / "t.txt").write_text("{{ value }}", encoding="utf-8")
    out = template_environment(tmp_path).get_template("t.txt").render(
        value='<img src="file:///etc/passwd">')
    assert out == "&lt;img src=&#34;file:///etc/passwd&#34;&gt;"


def test_the_same_input_gives_the_same_bytes():
    html = "<html><head><title>Giấy chứng nhận</title></head><body><p>Ánh</p></body></html>"
    first = render_pdf(html, created=date(2026, 6, 5))
    assert render_pdf(html, created=date(2026, 6, 5)) == first
    info = PdfReader(io.BytesIO(first))
    assert info.metadata["/CreationDate"] == info.metadata["/ModDate"] == "D:20260605"
    assert len(info.trailer["/ID"]) == 2
    assert render_pdf(html, created=date(2026, 6, 6)) != first


def test_the_html_cannot_stamp_the_current_time():
    html = ('<html><head><meta name="dcterms.created" content="2001-01-01T00:00:00Z">'
            '</head><body>x</body></html>')
    metadata = PdfReader(io.BytesIO(render_pdf(html))).metadata
    assert "/CreationDate" not in metadata and "/ModDate" not in metadata
    stamped = render_pdf(html, created=datetime(2026, 6, 5, 1, 2, 3, tzinfo=UTC))
    assert PdfReader(io.BytesIO(stamped)).metadata["/CreationDate"] == "D:20260605010203+00'00"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_pdf("<p>x</p>", created=datetime(2026, 6, 5))  # noqa: DTZ001


def test_parsed_fonts_and_stylesheets_are_reused(capsys):
    """The first document in a thread builds the font configuration; later ones reuse it."""
    import time

    html = "<p>Báo cáo tháng 5/2026: Nguyễn Thị Ngọc Ánh</p>"
    css = "p { font-size: 13pt }"
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        render_pdf(html, stylesheets=(css,))
        timings.append((time.perf_counter() - start) * 1000)
    with capsys.disabled():
        print(f"\nrender_pdf small document: first {timings[0]:.1f} ms, "
              f"then median {sorted(timings[1:])[9]:.1f} ms")
    from lms.pdf import _renderer

    renderer = _renderer()
    assert renderer.stylesheet(css) is renderer.stylesheet(css)
