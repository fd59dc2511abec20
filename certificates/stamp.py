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

import hashlib
import io
import re
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import segno
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
)

from certificates.stamp_font import StampFont, pdf_objects, stamp_font
from lms.pdf import layout, write

PX = 0.75  # CSS pixels to PDF points
_TEMPLATES = 64  # laid-out pages kept per process (about 100 KB each)
_FIELDS = ("birth", "completed", "serial", "code", "url", "issued")
_FONT_RESOURCES = {"bold": "HvsB", "regular": "HvsR"}
_QR_RESOURCE = "HvsQR"
# Medium error correction survives a crease. The mask is fixed: scanners read it from the code
# itself, and trying all eight (segno's default) costs more than the rest of the QR code.
QR_ERROR = "m"
QR_MASK = 0
_QUIET_ZONE = 4  # modules of white around a QR code (ISO/IEC 18004)
_DARK_TO_BITS = bytes.maketrans(b"\x00\x01", b"10")  # DeviceGray, 1 bit: 0 is black


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
    """A laid-out page and what a certificate adds to it (see _prepare)."""

    spots: dict[str, Spot]
    name: Box
    name_color: tuple[float, float, float]
    qr: Box
    head: bytes  # the PDF, then the objects every certificate of this page repeats
    offsets: dict[int, int]  # object number → offset in head, of the repeated objects
    root: int
    first_free: int  # the first object number a certificate's own objects take
    startxref: int  # of the laid-out PDF: the update's /Prev
    file_id: str  # hex of the first /ID string
    producer: str
    signed: bool
    widget: int | None


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

def _serialise(obj) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def _indirect(number: int, reader: PdfReader) -> IndirectObject:
    return IndirectObject(number, 0, reader)


def _stream_object(data: bytes) -> bytes:
    return f"<</Length {len(data)}>>\nstream\n".encode() + data + b"\nendstream"


def _prepare(pdf: bytes, signed: bool) -> tuple[bytes, dict[int, int], int, int, int, str,
                                                 str, int | None]:
    """The update's repeated objects after pdf: a stream saving the graphics state before
    WeasyPrint's content and one restoring it after, the two fonts, the page pointing at them
    and at the certificate's content stream (the first free number), and when signed the
    signature field and a catalogue that lists it."""
    reader = PdfReader(io.BytesIO(pdf))
    trailer = reader.trailer
    size = int(trailer["/Size"])
    root_ref = trailer.raw_get("/Root")
    page = reader.pages[0]
    page_number = page.indirect_reference.idnum
    objects: dict[int, bytes] = {}
    save, restore = size, size + 1
    objects[save] = _stream_object(b"q\n")
    objects[restore] = _stream_object(b"Q\n")
    fonts: dict[str, int] = {}
    number = size + 2
    for weight in ("bold", "regular"):
        fonts[weight] = number
        for body in pdf_objects(stamp_font(weight), number):
            objects[number] = body
            number += 1
    widget = None
    if signed:
        widget = number
        number += 1
    content = number  # the certificate's own objects follow: content, QR image, info, signature
    contents = page.raw_get("/Contents")
    original = list(contents) if isinstance(contents, ArrayObject) else [contents]
    new_page = DictionaryObject({NameObject(k): v for k, v in page.items()})
    new_page[NameObject("/Contents")] = ArrayObject(
        [_indirect(save, reader), *original, _indirect(restore, reader),
         _indirect(content, reader)])
    resources = DictionaryObject(dict(page["/Resources"].get_object().items()))
    font_dict = DictionaryObject(dict(resources.get("/Font", DictionaryObject()).get_object()
                                      .items()))
    for weight, first in fonts.items():
        font_dict[NameObject(f"/{_FONT_RESOURCES[weight]}")] = _indirect(first, reader)
    resources[NameObject("/Font")] = font_dict
    images = DictionaryObject(dict(resources.get("/XObject", DictionaryObject()).get_object()
                                   .items()))
    images[NameObject(f"/{_QR_RESOURCE}")] = _indirect(content + 1, reader)
    resources[NameObject("/XObject")] = images
    new_page[NameObject("/Resources")] = resources
    if signed:
        annots = page.get("/Annots")
        new_page[NameObject("/Annots")] = ArrayObject(
            [*(annots.get_object() if annots else []), _indirect(widget, reader)])
        objects[widget] = (
            f"<</Type /Annot/Subtype /Widget/FT /Sig/T (HocvusoSignature)/F 132"
            f"/Rect [0 0 0 0]/P {page_number} 0 R/V {content + 3} 0 R>>").encode()
        catalog = DictionaryObject(dict(reader.trailer["/Root"].items()))
        catalog[NameObject("/AcroForm")] = DictionaryObject({
            NameObject("/Fields"): ArrayObject([_indirect(widget, reader)]),
            NameObject("/SigFlags"): NumberObject(3)})
        objects[root_ref.idnum] = _serialise(catalog)
    objects[page_number] = _serialise(new_page)
    head = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = {}
    for n in sorted(objects):
        offsets[n] = len(head)
        head += f"{n} 0 obj\n".encode() + objects[n] + b"\nendobj\n"
    startxref = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    first_id = trailer["/ID"][0]
    file_id = getattr(first_id, "original_bytes", first_id).hex()
    producer = str(reader.metadata.get("/Producer", "WeasyPrint")) if reader.metadata else ""
    return bytes(head), offsets, root_ref.idnum, content, startxref, file_id, producer, widget


def lay_out(html: str, stylesheets: list[str], *, signed: bool, identifier: str) -> Page:
    document = layout(html, stylesheets=stylesheets)
    if len(document.pages) != 1:
        raise NotStampable("the page does not fit on one sheet")
    spots, name, name_color, qr = _positions(document)
    pdf = write(document, created=None, identifier=identifier)
    head, offsets, root, first_free, startxref, file_id, producer, widget = _prepare(pdf, signed)
    return Page(spots=spots, name=name, name_color=name_color, qr=qr, head=head,
                offsets=offsets, root=root, first_free=first_free, startxref=startxref,
                file_id=file_id, producer=producer, signed=signed, widget=widget)


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


def qr_matrix(text: str):
    """segno's modules (rows of 0 and 1) for text, as render.qr_png draws them."""
    return segno.make(text, error=QR_ERROR, micro=False, mask=QR_MASK).matrix


def qr_image(matrix) -> bytes:
    """The QR code as a 1-bit grey image object, one pixel per module with its quiet zone,
    drawn without interpolation: the PNG the whole layout uses, without PNG."""
    width = len(matrix) + 2 * _QUIET_ZONE
    pad = "1" * ((-width) % 8)
    edge = "1" * _QUIET_ZONE
    row_bytes = (width + len(pad)) // 8
    blank = b"\xff" * row_bytes
    rows = [blank] * _QUIET_ZONE
    for row in matrix:
        bits = edge + bytes(row).translate(_DARK_TO_BITS).decode() + edge + pad
        rows.append(int(bits, 2).to_bytes(row_bytes, "big"))
    rows += [blank] * _QUIET_ZONE
    packed = zlib.compress(b"".join(rows))
    return (f"<</Type /XObject/Subtype /Image/Width {width}/Height {width}"
            f"/ColorSpace /DeviceGray/BitsPerComponent 1/Interpolate false"
            f"/Filter /FlateDecode/Length {len(packed)}>>\nstream\n").encode() + packed \
        + b"\nendstream"


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
        parts.append(_show(stamp_font(spot.weight), _FONT_RESOURCES[spot.weight], text, x, y,
                           spot.size, spot.color, spot.letter_spacing))
    size, lines = name_placement(page, fields)
    bold = stamp_font("bold")
    for text, x, y in lines:
        parts.append(_show(bold, _FONT_RESOURCES["bold"], text, x, y, size, page.name_color))
    qr = page.qr
    parts.append(f"q {qr.width:.3f} 0 0 {qr.height:.3f} {qr.x:.3f} {qr.top - qr.height:.3f} cm "
                 f"/{_QR_RESOURCE} Do Q")
    return "\n".join(parts).encode()


def _pdf_date(moment: datetime) -> str:
    return "D:" + moment.strftime("%Y%m%d%H%M%S") + _offset(moment)


def _offset(moment: datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _text_string(text: str) -> str:
    """A PDF text string: literal when ASCII, else UTF-16BE with its byte-order mark."""
    if text.isascii() and text.isprintable():
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _xref_stream(number: int, entries: dict[int, int], *, size_after: int, root: int,
                 info: int, prev: int, ids: tuple[str, str]) -> bytes:
    numbers = sorted(entries)
    index: list[int] = []
    for n in numbers:  # consecutive runs
        if index and index[-2] + index[-1] == n:
            index[-1] += 1
        else:
            index += [n, 1]
    rows = b"".join(b"\x01" + entries[n].to_bytes(4, "big") + b"\x00\x00" for n in numbers)
    packed = zlib.compress(rows)
    return (f"<</Type /XRef/Size {size_after}/Index [{' '.join(map(str, index))}]/W [1 4 2]"
            f"/Root {root} 0 R/Info {info} 0 R/ID [<{ids[0]}> <{ids[1]}>]/Prev {prev}"
            f"/Filter /FlateDecode/Length {len(packed)}>>\nstream\n").encode() + packed \
        + b"\nendstream"


def assemble(page: Page, fields: Fields, sign=None, *, reason: str = "", location: str = "",
             matrix=None) -> bytes:
    """The certificate's PDF: page's PDF and repeated objects, then its content stream, its
    document information and, with sign (byte ranges → CMS DER, with the room it needs in
    .room), its signature."""
    stream = zlib.compress(content(page, fields), 6)
    if matrix is None:
        matrix = qr_matrix(fields.qr_text)
    image = qr_image(matrix)
    out = bytearray(page.head)
    entries = dict(page.offsets)
    number = page.first_free

    def add(body: bytes) -> int:
        nonlocal number
        entries[number] = len(out)
        out.extend(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        number += 1
        return number - 1

    add(f"<</Filter /FlateDecode/Length {len(stream)}>>\nstream\n".encode() + stream
        + b"\nendstream")
    add(image)
    stamp = _pdf_date(fields.created)
    info = add((f"<</Title {_text_string(fields.title)}/Producer {_text_string(page.producer)}"
                f"/CreationDate ({stamp})/ModDate ({stamp})>>").encode())
    contents_at = ranges_at = 0
    if sign is not None:
        sig_start = len(out) + len(f"{number} 0 obj\n")
        head = (f"<</Type /Sig/Filter /Adobe.PPKLite/SubFilter /ETSI.CAdES.detached"
                f"/M ({stamp})/Reason {_text_string(reason)}/Location {_text_string(location)}"
                f"/ByteRange [0 {'':>10} {'':>10} {'':>10}]/Contents <").encode()
        contents_at = sig_start + len(head) - 1  # the "<"
        ranges_at = sig_start + head.index(b"[0 ")
        add(head + b"0" * (2 * sign.room) + b">>>")
    xref_at = len(out)
    entries[number] = xref_at
    second_id = hashlib.sha256(fields.identifier.encode()).hexdigest()[:32]
    out.extend(f"{number} 0 obj\n".encode() + _xref_stream(
        number, entries, size_after=number + 1, root=page.root, info=info,
        prev=page.startxref, ids=(page.file_id, second_id)) + b"\nendobj\n")
    out.extend(f"startxref\n{xref_at}\n%%EOF\n".encode())
    if sign is None:
        return bytes(out)
    after = contents_at + 2 * sign.room + 2
    ranges = f"[0 {contents_at:>10} {after:>10} {len(out) - after:>10}]".encode()
    out[ranges_at:ranges_at + len(ranges)] = ranges
    view = memoryview(out)
    cms = sign(view[:contents_at], view[after:])
    if len(cms) > sign.room:
        raise NotStampable("the signature is larger than its room")
    hex_cms = cms.hex().encode()
    out[contents_at + 1:contents_at + 1 + len(hex_cms)] = hex_cms
    return bytes(out)
