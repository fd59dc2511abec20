"""Subset Debian's Noto Serif to the Latin ranges Vietnamese documents need (README.md).

Re-run with `.venv/bin/python static/fonts/subset.py [SOURCE_DIR]`; the output is deterministic
(fontTools keeps the source's head.modified), so an unchanged source gives unchanged files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

SOURCE_DIR = Path("/usr/share/fonts/truetype/noto")  # Debian package fonts-noto-core
TARGET_DIR = Path(__file__).resolve().parent
STYLES = ("Regular", "Bold", "Italic", "BoldItalic")

UNICODES = [
    *range(0x0020, 0x007F),   # Basic Latin (digits included)
    *range(0x00A0, 0x0100),   # Latin-1 Supplement
    *range(0x0100, 0x0180),   # Latin Extended-A
    *range(0x0180, 0x0250),   # Latin Extended-B (Ơ ơ Ư ư)
    *range(0x02C6, 0x02DE),   # spacing accents (ˆ ˇ ˘ ˙ ˚ ˛ ˜ ˝)
    *range(0x0300, 0x0370),   # combining diacritics: names that arrive in NFD still render
    *range(0x1E00, 0x1F00),   # Latin Extended Additional: every precomposed Vietnamese letter
    *range(0x2000, 0x2070),   # General Punctuation (– — ‘ ’ “ ” … ‰ and the spaces)
    0x20AB,                   # ₫ đồng sign
    0x20AC,                   # €
    0x2116,                   # №
    0x2122,                   # ™
    0x25CC,                   # dotted circle: HarfBuzz shows a stray combining mark on it
]
# What Pango/HarfBuzz apply for Latin text, plus figure styles for tables.
LAYOUT_FEATURES = ["ccmp", "locl", "mark", "mkmk", "kern", "liga", "clig", "calt", "rlig",
                   "tnum", "lnum", "pnum"]
# Copyright, names, version, and the licence description/URL (OFL condition 2).
NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14]


def options() -> subset.Options:
    opts = subset.Options()
    opts.layout_features = LAYOUT_FEATURES
    opts.name_IDs = NAME_IDS
    opts.name_languages = ["*"]
    opts.notdef_outline = True        # a missing glyph shows as a box, never as nothing
    opts.hinting = False              # WeasyPrint drops hinting when embedding (hinting=False)
    opts.glyph_names = False
    opts.recalc_timestamp = False     # keep the source's head.modified: reproducible output
    opts.recalc_bounds = True         # bounding boxes of the glyphs actually kept
    opts.drop_tables += ["DSIG"]      # the signature is invalid once the font is modified
    return opts


def subset_font(source: Path, target: Path) -> None:
    # The same steps as the pyftsubset command line, so README.md's command gives equal bytes.
    opts = options()
    font = subset.load_font(source, opts, dontLoadGlyphNames=not opts.glyph_names)
    subsetter = subset.Subsetter(opts)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    subset.save_font(font, target, opts)


def main(source_dir: Path = SOURCE_DIR) -> None:
    for style in STYLES:
        source = source_dir / f"NotoSerif-{style}.ttf"
        target = TARGET_DIR / source.name
        subset_font(source, target)
        print(f"{source} {source.stat().st_size:>9,} B -> {target.name} "
              f"{target.stat().st_size:>9,} B")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE_DIR)
