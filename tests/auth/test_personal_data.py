"""The 12-digit personal ID that VNeID sends is personal data (DESIGN.md "Rules that protect
data"): after a sign-in and a logout it is in no table (in clear or inside a stored token), in
no URL the app sends the browser to, and in no log line."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from urllib.parse import parse_qsl, urlsplit

JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _decoded(value: str) -> str:
    """The value, plus the decoded segments of a JWT inside it."""
    parts = [value]
    if JWT.match(value):
        for segment in value.split(".")[:2]:
            with contextlib.suppress(binascii.Error, ValueError):
                parts.append(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
                             .decode("utf-8", "replace"))
    return "\n".join(parts)


def _holders(app, pid: str) -> list[str]:
    """table.column of every stored value that holds the personal ID."""
    found = []
    tables = [name for (name,) in app.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        cursor_rows = app.rows(f'SELECT * FROM "{table}"')  # noqa: S608 (names from sqlite)
        columns = [row[1] for row in app.rows(f'PRAGMA table_info("{table}")')]
        for row in cursor_rows:
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str) and pid in _decoded(value):
                    found.append(f"{table}.{column}")
    return sorted(set(found))


def test_the_personal_id_is_stored_nowhere(panva_app, panva_citizen, browser):
    citizen = panva_citizen()
    assert browser.login(panva_app, citizen["sub"]).status_code == 303
    assert _holders(panva_app, citizen["pid"]) == []


def test_the_personal_id_is_in_no_url_or_log(panva_app, panva_citizen, browser):
    citizen = panva_citizen()
    log_start = panva_app.log_path.stat().st_size
    assert browser.login(panva_app, citizen["sub"]).status_code == 303
    token = browser.csrf(f"{panva_app.url}/auth/logout")
    out = browser.post(f"{panva_app.url}/auth/logout", data={"csrf_token": token})
    assert out.status_code == 303

    query = parse_qsl(urlsplit(out.headers["Location"]).query)
    leaking = [name for name, value in query if citizen["pid"] in _decoded(value)]
    assert leaking == [], f"the logout redirect carries the personal ID in {leaking}"
    assert citizen["pid"] not in panva_app.log(log_start)
