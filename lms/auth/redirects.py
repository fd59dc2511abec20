"""`next=` after sign-in: only a path on this site, never another host or a script."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(value: str | None, default: str = "/") -> str:
    """The value if it is a plain local path, else `default`.

    Refuses `//evil.example`, `/\\evil.example` (browsers read the backslash as a slash),
    `https:evil.example`, `javascript:...` and anything with control characters.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 0x20 or ch == "\\" for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
