"""Synthetic but structurally valid personal IDs and birth dates for demo people."""

from __future__ import annotations

import random
from datetime import date, timedelta


def synthetic_personal_id(rng: random.Random, prefix: str, birth_on: date, female: bool,
                          serial: int) -> str:
    century_digit = (birth_on.year // 100 - 19) * 2 + (1 if female else 0)
    return f"{prefix}{century_digit}{birth_on.year % 100:02d}{serial % 1_000_000:06d}"


def random_birth(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days))
