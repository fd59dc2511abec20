"""Compile every package's .po catalogues to .mo (run by the Makefile; .mo are build output).

Usage: python -m lms.i18n_compile
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lms", "courses", "enrollment", "certificates")


def compile_all(force: bool = False) -> list[Path]:
    written = []
    for package in PACKAGES:
        for po in sorted((ROOT / package / "translations").glob("*/LC_MESSAGES/messages.po")):
            mo = po.with_suffix(".mo")
            if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=False)
            written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"compiled {path.relative_to(ROOT)}")
