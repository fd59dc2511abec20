"""The 12-digit personal ID: structure, consistency with a birth date, hashing and masking."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from lms.pii import (
    check_personal_id,
    hash_personal_id,
    mask_personal_id,
    normalize_name,
    redact_personal_ids,
)


def codes(value, birth_on=None):
    return [p.code for p in check_personal_id(value, birth_on)]


def test_a_consistent_id_has_no_problems():
    assert codes("079203004567", date(2003, 5, 1)) == []  # HCMC, male, 2000s, born 2003
    assert codes("001185000123", date(1985, 1, 1)) == []  # Hà Nội, female, 1900s
    assert codes("079203004567") == []  # without a birth date only structure is checked


@pytest.mark.parametrize(("value", "code"), [
    ("07920300456", "length"),  # 11 digits
    ("0792030045671", "length"),  # 13 digits
    ("07920300456A", "not_digits"),
    ("０７９２０３００４５６７", "non_ascii_digits"),  # full-width digits
    ("079 03004567", "not_digits"),
    ("003203004567", "prefix"),  # 003 is not a registration code
])
def test_structural_problems(value, code):
    assert code in codes(value)


def test_birth_date_inconsistencies_name_the_digits():
    problems = check_personal_id("079203004567", date(1999, 5, 1))
    assert {p.code for p in problems} == {"century", "year"}
    assert any("digit 4" in p.message for p in problems)
    assert any("digits 5-6" in p.message for p in problems)
    assert codes("079204004567", date(2003, 5, 1)) == ["year"]


def test_hash_is_keyed_and_stable(app):
    with app.app_context():
        first = hash_personal_id("079203004567")
        assert first == hash_personal_id("079203004567")
        assert first != hash_personal_id("079203004568")
        assert first != hash_personal_id("079203004567", key=b"another key")
        assert "079203004567" not in first


def test_mask_and_redact():
    assert mask_personal_id("079203004567") == "0792****4567"
    assert redact_personal_ids("id=079203004567, phone 0912345678") == \
        "id=0792****4567, phone 0912345678"
    assert redact_personal_ids("order 10792030045678") == "order 10792030045678"  # 14 digits


def test_names_are_nfc_and_trimmed():
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Thị  Ánh  ")
    assert normalize_name(decomposed) == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", normalize_name(decomposed))
