"""Personal data helpers: the 12-digit personal ID (structure check, keyed hash, mask) and
NFC names. The ID is never logged, never put in a URL, and stored only hashed and masked."""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app

_PREFIX_FILE = Path(__file__).parent / "data" / "id_prefixes.csv"
_ID_RE = re.compile(r"[0-9]{12}")  # ASCII digits only: str.isdigit() accepts full-width ones


@functools.cache
def registration_prefixes() -> dict[str, str]:
    """Place-of-registration codes (the pre-2025 province codes, Circular 07/2016/TT-BCA)."""
    with _PREFIX_FILE.open(encoding="utf-8") as fh:
        return {row["code"]: row["place"] for row in csv.DictReader(fh)}


@dataclass(frozen=True)
class IdProblem:
    code: str
    message: str


def check_personal_id(value: str, birth_on: date | None = None) -> list[IdProblem]:
    """Structural problems of a personal ID, each with a reason; empty when it is plausible.

    Digit 4 encodes the century (0/1: 1900s, 2/3: 2000s, 4/5: 2100s ...) and digits 5-6 the
    last two digits of the birth year; we check them only for consistency with a given birth
    date, never to decide anything about the person.
    """
    if not _ID_RE.fullmatch(value):
        if any(unicodedata.category(ch) == "Nd" and not ch.isascii() for ch in value):
            return [IdProblem("non_ascii_digits", "contains full-width or non-ASCII digits")]
        if not value.isascii() or not value.isdigit():
            return [IdProblem("not_digits", "must contain digits 0-9 only")]
        return [IdProblem("length", f"must have 12 digits, has {len(value)}")]
    problems = []
    if value[:3] not in registration_prefixes():
        problems.append(IdProblem("prefix", f"unknown place-of-registration code {value[:3]}"))
    if birth_on is not None:
        century = (birth_on.year // 100) - 19
        if not 0 <= century <= 4 or int(value[3]) // 2 != century:
            problems.append(IdProblem(
                "century", f"digit 4 ({value[3]}) does not match the birth year {birth_on.year}"))
        if value[4:6] != f"{birth_on.year % 100:02d}":
            problems.append(IdProblem(
                "year", f"digits 5-6 ({value[4:6]}) do not match the birth year {birth_on.year}"))
    return problems


def pii_key() -> bytes:
    configured = current_app.config.get("PII_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else configured
    # Domain-separated from the session-signing use of the same secret.
    return hashlib.sha256(b"hocvuso-pii-v1:" + current_app.config["SECRET_KEY"].encode()).digest()


def hash_personal_id(value: str, key: bytes | None = None) -> str:
    return hmac.new(key or pii_key(), value.encode("ascii"), hashlib.sha256).hexdigest()


def mask_personal_id(value: str) -> str:
    """0790****4567: enough for a person to recognise their own number, not to reuse it."""
    return f"{value[:4]}****{value[-4:]}"


_PID_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{4}([0-9]{4})(?![0-9])")


def redact_personal_ids(text: str) -> str:
    """Mask anything that looks like a personal ID inside free text (log lines)."""
    return _PID_IN_TEXT.sub(r"\1****\2", text)


_SPACES = re.compile(r"\s+")


def normalize_name(value: str) -> str:
    """NFC, trimmed, inner runs of white space collapsed to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()
