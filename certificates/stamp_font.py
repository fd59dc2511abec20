"""The fonts a stamped certificate writes its variable text in (certificates/stamp.py): the
shipped Noto Serif (static/fonts, OFL) cut once per process, the bold weight to the letters
names are written in (ASCII, Latin-1, Latin Extended-A, Vietnamese), the regular one to ASCII,
and embedded whole in each document as CID fonts with a ToUnicode map, so that text
extraction gives back exactly the NFC string that was drawn.

Cutting a font for each document is what makes WeasyPrint slow for certificates; cut once,
the two add about 25 KB to each PDF. A name with a character outside the cut is not stamped:
the whole certificate is then laid out by WeasyPrint (certificates/render.py)."""

from __future__ import annotations

import io
import threading
import zlib
from dataclasses import dataclass
from functools import cache

from fontTools import subset
from fontTools.ttLib import TTFont

from lms.pdf import STATIC_DIR

# Code points kept when present in the shipped font. Names (bold): what Vietnamese and the
# Latin transcriptions of minority names use, and the punctuation a name may hold; the
# regular weight only writes codes, addresses and dates, which are ASCII.
_NAME_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x100, 0x17F), (0x1A0, 0x1A1), (0x1AF, 0x1B0),
                (0x1EA0, 0x1EF9), (0x2010, 0x201F))
_ASCII = ((0x20, 0x7E),)
_EM = 1000


@dataclass(frozen=True)
class StampFont:
    """One cut font: its file, the glyph of each kept character and each glyph's advance
    (thousandths of an em), ready to be measured and written as PDF text."""

    name: str  # the PostScript-like name the PDF gives it (subset-tagged)
    data: bytes  # the TrueType file
    glyphs: dict[str, int]  # character → glyph id
    advances: tuple[int, ...]  # glyph id → advance in 1/1000 em
    ascent: int
    descent: int  # negative
    cap_height: int
    bbox: tuple[int, int, int, int]

    def covers(self, text: str) -> bool:
        return all(c in self.glyphs for c in text)

    def width(self, text: str, size: float, letter_spacing: float = 0.0) -> float:
        """Width in points at size (points), letter spacing after every character as CSS."""
        advances, glyphs = self.advances, self.glyphs
        return (sum(advances[glyphs[c]] for c in text) * size / _EM
                + letter_spacing * len(text))

    def encode(self, text: str) -> str:
        """text as the hex string a Tj operator shows with this font (Identity-H)."""
        glyphs = self.glyphs
        return "".join(f"{glyphs[c]:04X}" for c in text)


def _scale(value: float, units: int) -> int:
    return round(value * _EM / units)


def _cut(file: str, tag: str, ranges: tuple[tuple[int, int], ...]) -> StampFont:
    # the same bytes in every process: no "modified now" in the head table
    font = TTFont(STATIC_DIR / "fonts" / file, recalcTimestamp=False)
    wanted = [c for low, high in ranges for c in range(low, high + 1)
              if c in font.getBestCmap()]
    options = subset.Options()
    options.layout_features = []  # drawn glyph by glyph: no shaping, no kerning
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "name", "post"]
    options.name_IDs = []
    options.hinting = False
    options.notdef_outline = True
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=wanted)
    cutter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    units = font["head"].unitsPerEm
    order = font.getGlyphOrder()
    ids = {name: n for n, name in enumerate(order)}
    metrics = font["hmtx"].metrics
    head, os2 = font["head"], font["OS/2"]
    return StampFont(
        name=f"{tag}+NotoSerif-{file.split('-')[1].removesuffix('.ttf')}", data=buffer.getvalue(),
        glyphs={chr(code): ids[name] for code, name in font.getBestCmap().items()},
        advances=tuple(_scale(metrics[name][0], units) for name in order),
        ascent=_scale(font["hhea"].ascent, units), descent=_scale(font["hhea"].descent, units),
        cap_height=_scale(getattr(os2, "sCapHeight", 0) or font["hhea"].ascent, units),
        bbox=tuple(_scale(v, units) for v in (head.xMin, head.yMin, head.xMax, head.yMax)))


_lock = threading.Lock()


@cache
def _fonts() -> dict[str, StampFont]:
    return {"bold": _cut("NotoSerif-Bold.ttf", "HVSBLD", _NAME_RANGES),
            "regular": _cut("NotoSerif-Regular.ttf", "HVSREG", _ASCII)}


def stamp_font(weight: str) -> StampFont:
    """"bold" or "regular", cut on first use (about 0.1 s) and kept for the process."""
    with _lock:  # two threads would cut the same font twice
        return _fonts()[weight]


# -- as PDF objects -----------------------------------------------------------------------------

def _to_unicode(font: StampFont) -> bytes:
    """The CMap from glyph ids back to text; a glyph reached from several code points maps
    to the lowest, which is the one NFC text uses."""
    first: dict[int, str] = {}
    for char, glyph in sorted(font.glyphs.items()):
        first.setdefault(glyph, char)
    pairs = sorted(first.items())
    lines = []
    for start in range(0, len(pairs), 100):  # at most 100 entries per bfchar block
        chunk = pairs[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{g:04X}> <{''.join(f'{u:04X}' for u in _utf16(c))}>" for g, c in chunk)
        lines.append("endbfchar")
    body = "\n".join(lines)
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
            ).encode()


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def stream(dictionary: str, data: bytes) -> bytes:
    """A compressed stream object's body; dictionary holds its other entries."""
    packed = zlib.compress(data, 6)
    return (f"<</Filter /FlateDecode/Length {len(packed)}{dictionary}>>\nstream\n".encode()
            + packed + b"\nendstream")


def font_file_object(data: bytes) -> bytes:
    """A TrueType font file (the whole cut, or font_subset's cut of it) as a stream object."""
    return stream(f"/Length1 {len(data)}", data)


def pdf_objects(font: StampFont, first: int, file: int) -> list[bytes]:
    """The font's four objects every certificate repeats, numbered from first: Type0 font
    (first), CID font, font descriptor, ToUnicode map. file: the number of the font file's
    object, which each certificate writes itself (font_file_object)."""
    cid, descriptor, to_unicode = first + 1, first + 2, first + 3
    widths = " ".join(str(w) for w in font.advances)
    flags = 2 | 32  # serif, non-symbolic
    return [
        (f"<</Type /Font/Subtype /Type0/BaseFont /{font.name}/Encoding /Identity-H"
         f"/DescendantFonts [{cid} 0 R]/ToUnicode {to_unicode} 0 R>>").encode(),
        (f"<</Type /Font/Subtype /CIDFontType2/BaseFont /{font.name}"
         f"/CIDSystemInfo <</Registry (Adobe)/Ordering (Identity)/Supplement 0>>"
         f"/FontDescriptor {descriptor} 0 R/CIDToGIDMap /Identity/DW 0/W [0 [{widths}]]>>"
         ).encode(),
        (f"<</Type /FontDescriptor/FontName /{font.name}/Flags {flags}"
         f"/FontBBox [{' '.join(map(str, font.bbox))}]/ItalicAngle 0"
         f"/Ascent {font.ascent}/Descent {font.descent}/CapHeight {font.cap_height}"
         f"/StemV 80/FontFile2 {file} 0 R>>").encode(),
        stream("", _to_unicode(font)),
    ]
