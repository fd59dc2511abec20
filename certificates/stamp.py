"""Certificates stamped on a laid-out page: the fast way to render one.

Everything on a certificate but eight fields is the same for every learner of a course version
at one issuing unit. WeasyPrint lays that page out once (render.certificate_html with stamp:
the fields are invisible stand-ins of their own width, the name and the QR code empty boxes of
a fixed size) and the layout tells where each field goes. A certificate is then that PDF with
an incremental update (ISO 32000-1, 7.5.6): the page again, with one more content stream that
draws the fields in the shipped font (stamp_font.py) and the QR code as an image, a new
document information dictionary and, when a signing key is configured, the PAdES signature
(cms.py) over the whole file. About a tenth of WeasyPrint's cost per certificate.

What cannot be stamped exactly is laid out by WeasyPrint instead (render.render): a character
the cut font lacks, a name longer than its box, a code or address wider than its line."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import segno

from certificates import font_subset, pdf_update
from certificates.stamp_font import StampFont, stamp_font
from lms.pdf import layout, write

PX = 0.75  # CSS pixels to PDF points
_TEMPLATES = 64  # laid-out pages kept per process (about 100 KB each)
_FIELDS = ("birth", "completed", "serial", "code", "url", "issued")
# Medium error correction survives a crease. The mask is fixed: scanners read it from the code
# itself, and trying all eight (segno's default) costs more than the rest of the QR code.
QR_ERROR = "m"
QR_MASK = 0


class NotStampable(Exception):
    """This certificate is laid out by WeasyPrint instead (the reason is the message)."""


@dataclass(frozen=True)
class Spot:
    """Where a field's text starts (points, PDF space: y up) and how it is drawn."""

    x: float
    baseline: float
    right: float  # the edge of the line's block: the text must end before it
    size: float
    weight: str
    color: tuple[float, float, float]
    letter_spacing: float


@dataclass(frozen=True)
class Box:
    x: float
    top: float  # PDF space: the upper edge
    width: float
    height: float


@dataclass(frozen=True)
class Page:
    """A laid-out page: where the fields go, and its PDF (pdf_update.Base)."""

    spots: dict[str, Spot]
    name: Box
    name_color: tuple[float, float, float]
    qr: Box
    base: pdf_update.Base


# -- laying out ---------------------------------------------------------------------------------

def _color(style) -> tuple[float, float, float]:
    red, green, blue = style["color"].to("srgb").coordinates
    return (round(red, 4), round(green, 4), round(blue, 4))


def _spot(box, ancestors: list, page_height: float) -> Spot:
    text = next(b for b in box.descendants() if type(b).__name__ == "TextBox")
    block = next(a for a in reversed(ancestors)
                 if type(a).__name__ in ("BlockBox", "TableCellBox"))
    style = text.style
    spacing = style["letter_spacing"]
    return Spot(x=text.position_x * PX,
                baseline=page_height - (text.position_y + text.baseline) * PX,
                right=(block.content_box_x() + block.width) * PX,
                size=style["font_size"] * PX,
                weight="bold" if style["font_weight"] >= 600 else "regular",
                color=_color(style),
                letter_spacing=0.0 if spacing == "normal" else spacing * PX)


def _positions(document) -> tuple[dict[str, Spot], Box, tuple, Box]:
    page_box = document.pages[0]._page_box
    height = document.pages[0].height * PX
    found: dict[str, tuple] = {}
    seen: dict[str, int] = {}

    def walk(box, ancestors):
        element = getattr(box, "element", None)
        ident = element.get("id") if element is not None else None
        if ident and ident.startswith("v-") and (ancestors[-1:] and getattr(
                ancestors[-1], "element", None) is not element):
            seen[ident] = seen.get(ident, 0) + 1
            found.setdefault(ident, (box, list(ancestors)))
        for child in getattr(box, "children", ()):
            walk(child, [*ancestors, box])

    walk(page_box, [])
    split = [k for k, n in seen.items() if n > 1 and k != "v-name"]
    if split:
        raise NotStampable(f"{split[0]} breaks across lines")
    spots = {f: _spot(*found[f"v-{f}"], height) for f in _FIELDS if f"v-{f}" in found}
    name_box, _ = found["v-name"]
    paragraph = next(b for b in name_box.descendants() if type(b).__name__ == "BlockBox")
    name = Box(name_box.content_box_x() * PX, height - name_box.content_box_y() * PX,
               name_box.width * PX, name_box.height * PX)
    qr_box, _ = found["v-qr"]
    qr = Box(qr_box.content_box_x() * PX, height - qr_box.content_box_y() * PX,
             qr_box.width * PX, qr_box.height * PX)
    return spots, name, _color(paragraph.style), qr


# -- the laid-out PDF and the objects every certificate repeats --------------------------------

def lay_out(html: str, stylesheets: list[str], *, signed: bool, identifier: str) -> Page:
    document = layout(html, stylesheets=stylesheets)
    if len(document.pages) != 1:
        raise NotStampable("the page does not fit on one sheet")
    spots, name, name_color, qr = _positions(document)
    pdf = write(document, created=None, identifier=identifier)
    return Page(spots=spots, name=name, name_color=name_color, qr=qr,
                base=pdf_update.prepare(pdf, signed))


class PageCache:
    """Laid-out pages by what is on them, least recently used dropped first. A page is built
    once per key even when threads ask at the same time."""

    def __init__(self, capacity: int = _TEMPLATES) -> None:
        self.capacity = capacity
        self.pages: OrderedDict[tuple, Page | NotStampable] = OrderedDict()
        self.lock = threading.Lock()
        self.building: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, build) -> Page:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            else:
                guard = self.building.setdefault(key, threading.Lock())
        if page is None:
            with guard:
                with self.lock:
                    page = self.pages.get(key)
                if page is None:
                    try:
                        page = build()
                    except NotStampable as exc:
                        page = exc
                    with self.lock:
                        self.pages[key] = page
                        self.building.pop(key, None)
                        while len(self.pages) > self.capacity:
                            self.pages.popitem(last=False)
        if isinstance(page, NotStampable):
            raise page
        return page

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


pages = PageCache()


# -- one certificate ------------------------------------------------------------------------

def _rg(color: tuple[float, float, float]) -> str:
    return f"{color[0]:g} {color[1]:g} {color[2]:g} rg"


def _show(font: StampFont, resource: str, text: str, x: float, y: float, size: float,
          color: tuple[float, float, float], letter_spacing: float = 0.0) -> str:
    return (f"BT /{resource} {size:g} Tf {letter_spacing:g} Tc {_rg(color)} "
            f"1 0 0 1 {x:.3f} {y:.3f} Tm <{font.encode(text)}> Tj ET")


def name_lines(name: str, font: StampFont, box: Box, sizes: tuple[float, ...],
               line_height: float) -> tuple[float, list[tuple[str, float]]]:
    """The largest of sizes (points, from the length's own) at which name fits the box
    broken at spaces, and its lines with their widths. Raises NotStampable."""
    words = name.split()
    for size in sizes:
        lines: list[list[str]] = []
        for word in words:
            trial = " ".join([*lines[-1], word]) if lines else word
            if lines and font.width(trial, size) <= box.width:
                lines[-1].append(word)
            else:
                lines.append([word])
        text = [" ".join(words) for words in lines]
        widths = [font.width(t, size) for t in text]
        if max(widths) <= box.width and len(text) * size * line_height <= box.height + 0.01:
            return size, list(zip(text, widths, strict=True))
    raise NotStampable("the name does not fit its box")


def qr_code(text: str) -> segno.QRCode:
    """segno's QR code for text: the one both ways draw (render.qr_png, qr_matrix)."""
    return segno.make(text, error=QR_ERROR, micro=False, mask=QR_MASK)


def qr_matrix(text: str):
    """The QR code's modules, rows of 0 and 1."""
    return qr_code(text).matrix


@dataclass(frozen=True)
class Fields:
    """What one certificate writes on its page (NFC text)."""

    name: str
    name_sizes: tuple[float, ...]  # the length's own size first, then the smaller ones
    name_line_height: float
    values: dict[str, str]  # field → text, for the fields the page has
    qr_text: str
    title: str  # the document title (the serial)
    created: datetime
    identifier: str


def field_texts(page: Page, fields: Fields) -> list[tuple[str, str, float, float]]:
    """(field, text, x, baseline) of each field the page has. Raises NotStampable."""
    out = []
    for field, spot in page.spots.items():
        text = fields.values[field]
        font = stamp_font(spot.weight)
        if not font.covers(text):
            raise NotStampable(f"{field}: a character outside the font")
        if spot.x + font.width(text, spot.size, spot.letter_spacing) > spot.right + 0.01:
            raise NotStampable(f"{field}: wider than its line")
        out.append((field, text, spot.x, spot.baseline))
    return out


def name_placement(page: Page, fields: Fields) -> tuple[float, list[tuple[str, float, float]]]:
    """The name's size and its lines as (text, x, baseline): centred across the name's box,
    from its top down. Raises NotStampable."""
    bold = stamp_font("bold")
    if not fields.name.strip() or not bold.covers(fields.name):
        raise NotStampable("name: a character outside the font")
    size, lines = name_lines(fields.name, bold, page.name, fields.name_sizes,
                             fields.name_line_height)
    step = size * fields.name_line_height
    top = page.name.top
    # the baseline in a line box: half the leading above the font's ascent (as Pango does)
    ascent, descent = bold.ascent * size / 1000, bold.descent * size / 1000
    baseline = (step - (ascent - descent)) / 2 + ascent
    return size, [(text, page.name.x + (page.name.width - width) / 2, top - n * step - baseline)
                  for n, (text, width) in enumerate(lines)]


def content(page: Page, fields: Fields) -> bytes:
    """The certificate's content stream. Raises NotStampable."""
    parts = []
    for field, text, x, y in field_texts(page, fields):
        spot = page.spots[field]
        parts.append(_show(stamp_font(spot.weight), pdf_update.FONT_RESOURCES[spot.weight],
                           text, x, y, spot.size, spot.color, spot.letter_spacing))
    size, lines = name_placement(page, fields)
    bold = stamp_font("bold")
    for text, x, y in lines:
        parts.append(_show(bold, pdf_update.FONT_RESOURCES["bold"], text, x, y, size,
                           page.name_color))
    qr = page.qr
    parts.append(f"q {qr.width:.3f} 0 0 {qr.height:.3f} {qr.x:.3f} {qr.top - qr.height:.3f} cm "
                 f"/{pdf_update.QR_RESOURCE} Do Q")
    return "\n".join(parts).encode()


def assemble(page: Page, fields: Fields, sign=None, *, reason: str = "", location: str = "",
             matrix=None) -> bytes:
    """The certificate's PDF: page's PDF with fields stamped on it (pdf_update.write), signed
    by sign (byte ranges → CMS DER) when given. matrix: the QR code's, when already made.
    Raises NotStampable."""
    image = pdf_update.qr_image(qr_matrix(fields.qr_text) if matrix is None else matrix)
    body = content(page, fields)
    drawn = {"bold": fields.name, "regular": ""}
    for field, spot in page.spots.items():
        drawn[spot.weight] += fields.values[field]
    files = [font_subset.font_file(stamp_font(w), drawn[w]) for w in pdf_update.WEIGHTS]
    try:
        return pdf_update.write(page.base, body, image, files, title=fields.title,
                                created=fields.created, identifier=fields.identifier,
                                sign=sign, reason=reason, location=location)
    except ValueError as exc:
        raise NotStampable(str(exc)) from exc
