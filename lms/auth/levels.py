"""Minimum identity assurance level per role (config AUTH_MIN_LEVELS over the defaults)."""

from __future__ import annotations

from flask import current_app

from lms.auth.claims import DEFAULT_MIN_LEVELS


def min_levels() -> dict[str, int]:
    return {**DEFAULT_MIN_LEVELS, **(current_app.config.get("AUTH_MIN_LEVELS") or {})}
