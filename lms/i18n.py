"""Flask-Babel: Vietnamese by default, English on request (?lang=en, remembered in a cookie).
Dates are shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
COOKIE = "lang"


def localized(vi: str | None, en: str | None) -> str:
    """Authored content in the reader's language: English when chosen and written, else the
    Vietnamese original."""
    return en if en and str(get_locale()) == "en" else (vi or "")


def select_locale() -> str:
    if not has_request_context():  # CLI commands and jobs speak Vietnamese
        return DEFAULT_LOCALE
    choice = request.args.get("lang") or request.cookies.get(COOKIE)
    return choice if choice in LOCALES else DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    roots = [Path(app.root_path).parent / pkg / "translations"
             for pkg in ("lms", "courses", "enrollment", "certificates")]
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          ";".join(str(p) for p in roots if p.is_dir()))
    Babel(app, locale_selector=select_locale)

    @app.after_request
    def _remember_choice(response):
        choice = request.args.get("lang")
        if choice in LOCALES and choice != request.cookies.get(COOKIE):
            response.set_cookie(COOKIE, choice, max_age=365 * 86400, samesite="Lax",
                                httponly=True, secure=request.is_secure)
        return response

    @app.context_processor
    def _locale_context():
        return {"current_locale": g.get("lms_locale") or select_locale(), "locales": LOCALES}
