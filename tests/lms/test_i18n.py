"""Every message in the code has a Vietnamese translation, placeholders survive translation,
the catalogues compile, and pages come out in Vietnamese by default and English on request.

A failure here usually means a string was added without translating it: refresh the
catalogues with the commands in docs/i18n.md, translate, and compile."""

from __future__ import annotations

import gettext
import html
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from lms.i18n_compile import PACKAGES

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as `pybabel extract -k _l -k lazy_gettext` (docs/i18n.md).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(([^)]+)\)")
NOT_FOUND = "The page or item you asked for does not exist."


def catalogue_path(package: str, locale: str) -> Path:
    return ROOT / package / "translations" / locale / "LC_MESSAGES" / "messages.po"


def load_catalogue(package: str, locale: str):
    with catalogue_path(package, locale).open("rb") as source:
        return read_po(source, locale=locale, abort_invalid=True)


def extract(package: str) -> dict[tuple, list[tuple[str, int]]]:
    """{(msgid, context): [(file, line), ...]} for the package, as `pybabel extract` sees it."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT / package, method_map, options_map, keywords=KEYWORDS):
        found.setdefault((message, context), []).append((f"{package}/{filename}", lineno))
    return found


def names(text: str | tuple | list) -> set[str]:
    parts = [text] if isinstance(text, str) else list(text)
    return {name for part in parts for name in PLACEHOLDER.findall(part or "")}


def forms(msgstr: str | tuple | list) -> list[str]:
    return [msgstr] if isinstance(msgstr, str) else list(msgstr)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_in_the_code_is_translated_to_vietnamese(package):
    messages = extract(package)
    if not messages:
        return  # nothing to translate in this package (yet)
    assert catalogue_path(package, "vi").is_file(), \
        f"{package} has messages but no Vietnamese catalogue; see docs/i18n.md"
    catalogue = load_catalogue(package, "vi")
    untranslated = []
    for (msgid, context), where in sorted(messages.items(), key=lambda item: item[1][0]):
        entry = catalogue.get(msgid, context)
        if entry is None or entry.fuzzy or not all(f.strip() for f in forms(entry.string)):
            state = "missing" if entry is None else "fuzzy" if entry.fuzzy else "empty"
            untranslated.append(f"{where[0][0]}:{where[0][1]}: {msgid!r} ({state})")
    assert not untranslated, (
        "messages without a Vietnamese translation in "
        f"{catalogue_path(package, 'vi').relative_to(ROOT)} (see docs/i18n.md):\n  "
        + "\n  ".join(untranslated))


def translated_catalogues():
    return [(package, locale) for package in PACKAGES for locale in ("vi", "en")
            if catalogue_path(package, locale).is_file()]


@pytest.mark.parametrize(("package", "locale"), translated_catalogues())
def test_placeholders_survive_translation(package, locale):
    wrong = []
    for message in load_catalogue(package, locale):
        if not message.id or not any(forms(message.string)):
            continue
        wanted = names(message.id)
        for form in forms(message.string):
            if names(form) != wanted:
                wrong.append(f"{message.id!r}: {form!r} has {sorted(names(form))}, "
                             f"expected {sorted(wanted)}")
    assert not wrong, "placeholders changed in translation:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize(("package", "locale"), translated_catalogues())
def test_catalogues_compile(package, locale):
    catalogue = load_catalogue(package, locale)
    problems = [f"{message.id!r}: {errors}" for message, errors in catalogue.check()]
    assert not problems, "\n".join(problems)
    buffer = BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    if locale == "vi":
        assert catalogue.plural_forms == "nplurals=1; plural=0;"
        if package == "lms":
            assert "không tồn tại" in compiled.gettext(NOT_FOUND)


def test_english_is_a_real_locale():
    catalogue = load_catalogue("lms", "en")
    assert str(catalogue.locale) == "en"


def vi(msgid: str) -> str:
    entry = load_catalogue("lms", "vi").get(msgid)
    assert entry is not None and entry.string, msgid
    return entry.string


def test_pages_are_vietnamese_by_default_and_english_on_request(client):
    for po in ROOT.glob("lms/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, \
            f"{mo.relative_to(ROOT)} is missing or stale: run python -m lms.i18n_compile"

    page = client.get("/units/NOPE")
    assert page.status_code == 404 and page.mimetype == "text/html"
    text = html.unescape(page.text)
    assert '<html lang="vi">' in text
    assert "không tồn tại" in text
    for msgid in (NOT_FOUND, "Digital Education for All", "Back to the home page"):
        assert vi(msgid) in text
        assert msgid not in text
    assert vi("Error %(status)s") % {"status": 404} in text

    page = client.get("/units/NOPE?lang=en")
    assert page.status_code == 404
    text = html.unescape(page.text)
    assert '<html lang="en">' in text
    for msgid in (NOT_FOUND, "Digital Education for All", "Back to the home page",
                  "Error 404"):
        assert msgid in text
    assert "không tồn tại" not in text

    home = html.unescape(client.get("/?lang=vi").text)
    assert '<html lang="vi">' in home
    assert vi("Units and completion") in home
