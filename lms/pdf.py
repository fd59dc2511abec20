"""HTML to PDF with WeasyPrint: resources come only from our static/ directory (STYLE.md
rule 7), fonts and stylesheets are parsed once per thread, and the same input gives the same
bytes (no current time, no random identifier)."""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Relative URLs in documents resolve against this base. ".invalid" never resolves in DNS
# (RFC 6761), so even a fetcher bug could not reach a real host with it.
STATIC_HOST = "static.hocvuso.invalid"
BASE_URL = f"https://{STATIC_HOST}/"
FONT_FAMILY = "Hocvuso Serif"
# Where a document refers to the images render_pdf(inline=...) hands over with it (static/
# has no "_inline" directory, so nothing else is ever served under this prefix).
INLINE_URL = f"{BASE_URL}_inline/"

# The shipped Noto Serif subset (static/fonts/README.md), under a family name of our own so
# that a system-wide Noto Serif can never stand in for it unnoticed.
BASE_CSS = "".join(
    f"""@font-face {{ font-family: "{FONT_FAMILY}"; src: url(fonts/NotoSerif-{file}.ttf);
    font-weight: {weight}; font-style: {style}; }}
"""
    for file, weight, style in (("Regular", 400, "normal"), ("Bold", 700, "normal"),
                                ("Italic", 400, "italic"), ("BoldItalic", 700, "italic"))
) + f"""
@page {{ size: A4 portrait; }}
html {{ font-family: "{FONT_FAMILY}", serif; }}
"""

_CACHED_STYLESHEETS = 16


class ResourceRefused(ValueError):
    """A document asked for something outside static/ (a file: or remote URL, data:, ..)."""


def static_path(url: str, root: Path = STATIC_DIR) -> Path:
    """The file under root that url names. Raises ResourceRefused for anything else: other
    schemes or hosts, '..' segments (also percent-encoded), paths leaving root through a
    symbolic link, directories and missing files."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc != STATIC_HOST:
        raise ResourceRefused(f"not a static resource: {url[:200]}")
    relative = unquote(parts.path).lstrip("/")
    segments = relative.split("/")
    if not relative or any(s in ("", ".", "..") or "\\" in s or "\0" in s for s in segments):
        raise ResourceRefused(f"bad static path: {url[:200]}")
    base = root.resolve()
    path = base.joinpath(*segments).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise ResourceRefused(f"no such static file: {url[:200]}")
    return path


class StaticFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves static/ and refuses everything else. WeasyPrint
    logs a refusal and renders on without the resource."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.root = root
        # Generated images of the document being rendered (a QR code), by name: only the
        # caller of render_pdf puts anything here, and only for that one render.
        self.inline: dict[str, tuple[bytes, str]] = {}

    def fetch(self, url, headers=None):
        if url.startswith(INLINE_URL):
            found = self.inline.get(url[len(INLINE_URL):])
            if found is None:
                raise ResourceRefused(f"no such inline resource: {url[:200]}")
            return URLFetcherResponse(url, body=found[0], headers={"Content-Type": found[1]})
        path = static_path(url, self.root)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(),
                                  headers={"Content-Type": content_type})


class _Renderer:
    """One thread's font configuration and parsed stylesheets. Fontconfig and Pango objects
    are not shared between threads, hence one per thread rather than one per process."""

    def __init__(self) -> None:
        self.fetcher = StaticFetcher()
        self.font_config = FontConfiguration()
        self.base = self._parse(BASE_CSS)
        self.stylesheets: OrderedDict[str, CSS] = OrderedDict()  # least recently used first

    def _parse(self, source: str) -> CSS:
        return CSS(string=source, base_url=BASE_URL, url_fetcher=self.fetcher,
                   font_config=self.font_config)

    def stylesheet(self, source: str) -> CSS:
        css = self.stylesheets.get(source)
        if css is None:
            css = self.stylesheets[source] = self._parse(source)
            if len(self.stylesheets) > _CACHED_STYLESHEETS:
                self.stylesheets.popitem(last=False)
        else:
            self.stylesheets.move_to_end(source)
        return css


_local = threading.local()


def _renderer() -> _Renderer:
    renderer = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = _Renderer()
    return renderer


def _w3c(moment: date | datetime) -> str:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("document dates must be timezone-aware")  # STYLE.md rule 10
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()


def layout(html: str, *, stylesheets: Sequence[str] = (),
           inline: Mapping[str, tuple[bytes, str]] | None = None):
    """html laid out by WeasyPrint as render_pdf does it (BASE_CSS, then stylesheets; only
    static/ and inline reachable): the Document, whose boxes say where everything went."""
    renderer = _renderer()
    sheets = [renderer.base, *(renderer.stylesheet(s) for s in stylesheets)]
    renderer.fetcher.inline = dict(inline or {})
    try:
        return HTML(string=html, base_url=BASE_URL, url_fetcher=renderer.fetcher).render(
            font_config=renderer.font_config, stylesheets=sheets)
    finally:
        renderer.fetcher.inline = {}


def write(document, *, created: date | datetime | None, identifier: str | bytes) -> bytes:
    """A laid-out Document as PDF bytes, dated created (undated when None)."""
    stamp = _w3c(created) if created is not None else None
    document.metadata.created = document.metadata.modified = stamp
    return document.write_pdf(pdf_identifier=identifier)


def render_pdf(html: str, *, stylesheets: Sequence[str] = (),
               created: date | datetime | None = None,
               identifier: str | bytes | None = None,
               inline: Mapping[str, tuple[bytes, str]] | None = None) -> bytes:
    """The PDF for html (already escaped: render it with template_environment()), styled by
    BASE_CSS (A4, the shipped font) then by each CSS source in stylesheets, in order.

    Relative URLs resolve against static/; nothing else is fetched. Byte-identical for equal
    arguments: CreationDate/ModDate come from created (none when None, whatever the HTML
    says), and the PDF /ID from identifier, by default a hash of the inputs. Text is not
    Unicode-normalised here: callers NFC-normalise their data (DESIGN.md). inline maps names
    to (bytes, content type) of generated images the HTML refers to as "_inline/<name>"."""
    document = layout(html, stylesheets=stylesheets, inline=inline)
    if identifier is None:
        digest = hashlib.sha256(html.encode())
        for source in stylesheets:
            digest.update(b"\0" + source.encode())
        identifier = digest.hexdigest()[:32]
    return write(document, created=created, identifier=identifier)


_environments: dict[tuple[str, ...], jinja2.Environment] = {}
_environments_lock = threading.Lock()


def template_environment(*directories: Path | str) -> jinja2.Environment:
    """A Jinja environment for document templates in directories: everything autoescaped
    (whatever the file name), undefined names an error. One per set of directories."""
    key = tuple(str(Path(d).resolve()) for d in directories)
    with _environments_lock:
        env = _environments.get(key)
        if env is None:
            env = _environments[key] = jinja2.Environment(
                loader=jinja2.FileSystemLoader(key), autoescape=True,
                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env
