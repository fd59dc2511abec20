"""A learner's HTTP journey, shared by the locustfile and bench/load.py: signing in through the
development identity provider without a browser, and reading the form fields it needs. Works on
any requests.Session (locust's HttpSession is one); imports nothing of locust."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


class JourneyError(RuntimeError):
    """The server answered something a browser could not have continued from."""


def hidden_fields(html: str) -> dict[str, str]:
    """name → value of every hidden input of a page (CSRF token, OIDC parameters)."""
    fields = {}
    for tag in _INPUT.findall(html):
        attrs = {k.lower(): unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type") == "hidden" and "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


def sign_in(http, base: str, subject: str, *, level: int = 1, named: bool = False) -> None:
    """As a browser does it: the sign-in page, POST /auth/login, the provider's page, choosing
    the citizen `subject`, and the callback on `base`. `named`: pass locust a request name.
    Raises JourneyError when a step answers anything else than a browser expects."""

    def call(method: str, url: str, name: str, expected: int, **kwargs):
        if named:
            kwargs["name"] = name
        response = http.request(method, url, allow_redirects=False, timeout=30, **kwargs)
        if response.status_code != expected:
            raise JourneyError(f"{method} {name}: {response.status_code}, expected {expected}")
        return response

    page = call("GET", f"{base}/auth/login", "/auth/login", 200)
    form = hidden_fields(page.text)
    form.update(level=str(level), next="/")
    started = call("POST", f"{base}/auth/login", "/auth/login", 303, data=form)
    authorize_url = urljoin(base, started.headers["Location"])
    chooser = call("GET", authorize_url, "/dev-idp/authorize", 200)
    choice = hidden_fields(chooser.text)
    choice.update(subject=subject, level=str(level), action="sign-in")
    chosen = call("POST", authorize_url.split("?", 1)[0], "/dev-idp/authorize", 303, data=choice)
    callback = urljoin(authorize_url, chosen.headers["Location"])
    if "error=" in callback:
        raise JourneyError(f"the provider refused: {callback.split('?', 1)[1][:200]}")
    call("GET", callback, "/auth/callback", 303)


def csrf_token(http, base: str, **options) -> str:
    response = http.get(f"{base}/api/v1/csrf-token", timeout=30, **options)
    if response.status_code != 200:
        raise JourneyError(f"GET /api/v1/csrf-token: {response.status_code}")
    return response.json()["csrf_token"]
