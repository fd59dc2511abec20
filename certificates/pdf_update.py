"""The incremental update (ISO 32000-1, 7.5.6) that turns a laid-out certificate page into one
learner's certificate (certificates/stamp.py says what goes on it).

Once per page (prepare): after WeasyPrint's PDF, the objects every certificate of that page
repeats: a stream saving the graphics state before WeasyPrint's content and one restoring it
after, the two stamp fonts, the page again pointing at them and at the certificate's own
objects, and when signed an invisible signature field and a catalogue that lists it. Per
certificate (write): its content stream, its QR code as a 1-bit image, its document
information, its signature dictionary, and a cross-reference stream pointing back at
WeasyPrint's. The signature covers the whole file but its /Contents, as PAdES requires."""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from dataclasses import dataclass
from datetime import datetime

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
)

from certificates.stamp_font import font_file_object, pdf_objects, stamp_font

FONT_RESOURCES = {"bold": "HvsB", "regular": "HvsR"}
QR_RESOURCE = "HvsQR"
_QUIET_ZONE = 4  # modules of white around a QR code (ISO/IEC 18004)
_DARK_TO_BITS = bytes.maketrans(b"\x00\x01", b"10")  # DeviceGray, 1 bit: 0 is black

WEIGHTS = ("bold", "regular")
_FONT_OBJECTS = 4  # per weight, repeated: stamp_font.pdf_objects
# A certificate's own objects, from Base.first_free on: its content stream (first_free
# itself), then these, at these offsets from it.
_QR_IMAGE, _FONT_FILES = 1, 2
_INFO = _FONT_FILES + len(WEIGHTS)
_SIGNATURE = _INFO + 1


@dataclass(frozen=True)
class Base:
    """A laid-out page's PDF and what every certificate on it repeats."""

    head: bytes  # the PDF, then the repeated objects
    offsets: dict[int, int]  # object number → offset in head, of the repeated objects
    root: int
    first_free: int  # the first object number a certificate's own objects take
    startxref: int  # of the laid-out PDF: the update's /Prev
    file_id: str  # hex of the first /ID string
    producer: str


def _serialise(obj) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def _indirect(number: int, reader: PdfReader) -> IndirectObject:
    return IndirectObject(number, 0, reader)


def _stream_object(data: bytes) -> bytes:
    return f"<</Length {len(data)}>>\nstream\n".encode() + data + b"\nendstream"


def prepare(pdf: bytes, signed: bool) -> Base:
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
    # the certificate's own objects follow these: content, QR image, font files, info, signature
    content = number + _FONT_OBJECTS * len(WEIGHTS) + (1 if signed else 0)
    for n, weight in enumerate(WEIGHTS):
        fonts[weight] = number
        for body in pdf_objects(stamp_font(weight), number, content + _FONT_FILES + n):
            objects[number] = body
            number += 1
    widget = number if signed else None
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
        font_dict[NameObject(f"/{FONT_RESOURCES[weight]}")] = _indirect(first, reader)
    resources[NameObject("/Font")] = font_dict
    images = DictionaryObject(dict(resources.get("/XObject", DictionaryObject()).get_object()
                                   .items()))
    images[NameObject(f"/{QR_RESOURCE}")] = _indirect(content + _QR_IMAGE, reader)
    resources[NameObject("/XObject")] = images
    new_page[NameObject("/Resources")] = resources
    if signed:
        annots = page.get("/Annots")
        new_page[NameObject("/Annots")] = ArrayObject(
            [*(annots.get_object() if annots else []), _indirect(widget, reader)])
        objects[widget] = (
            f"<</Type /Annot/Subtype /Widget/FT /Sig/T (HocvusoSignature)/F 132"
            f"/Rect [0 0 0 0]/P {page_number} 0 R/V {content + _SIGNATURE} 0 R>>").encode()
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
    return Base(head=bytes(head), offsets=offsets, root=root_ref.idnum, first_free=content,
                startxref=startxref, file_id=file_id, producer=producer)


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


def write(base: Base, content: bytes, image: bytes, font_files: list[bytes], *, title: str,
          created: datetime, identifier: str, sign=None, reason: str = "",
          location: str = "") -> bytes:
    """The certificate's PDF: base's PDF and repeated objects, then its content stream, QR
    image (qr_image), font files (one per weight of WEIGHTS, font_file_object), document
    information and, with sign (byte ranges → CMS DER, with the
    room it needs in .room), its signature. Raises ValueError when the CMS outgrows its room."""
    stream = zlib.compress(content, 6)
    out = bytearray(base.head)
    entries = dict(base.offsets)
    number = base.first_free

    def add(body: bytes) -> int:
        nonlocal number
        entries[number] = len(out)
        out.extend(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        number += 1
        return number - 1

    add(f"<</Filter /FlateDecode/Length {len(stream)}>>\nstream\n".encode() + stream
        + b"\nendstream")
    add(image)
    for data in font_files:
        add(font_file_object(data))
    stamp = _pdf_date(created)
    info = add((f"<</Title {_text_string(title)}/Producer {_text_string(base.producer)}"
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
    second_id = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    out.extend(f"{number} 0 obj\n".encode() + _xref_stream(
        number, entries, size_after=number + 1, root=base.root, info=info,
        prev=base.startxref, ids=(base.file_id, second_id)) + b"\nendobj\n")
    out.extend(f"startxref\n{xref_at}\n%%EOF\n".encode())
    if sign is None:
        return bytes(out)
    after = contents_at + 2 * sign.room + 2
    ranges = f"[0 {contents_at:>10} {after:>10} {len(out) - after:>10}]".encode()
    out[ranges_at:ranges_at + len(ranges)] = ranges
    view = memoryview(out)
    cms = sign(view[:contents_at], view[after:])
    if len(cms) > sign.room:
        raise ValueError("the signature is larger than its room")
    hex_cms = cms.hex().encode()
    out[contents_at + 1:contents_at + 1 + len(hex_cms)] = hex_cms
    return bytes(out)
