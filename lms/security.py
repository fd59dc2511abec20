"""CSRF on every form, security headers on every response, Flask-Login with sessions that
the server can invalidate (the cookie carries the user's session epoch)."""

from __future__ import annotations

from flask import Flask, request
from flask import session as flask_session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


@login_manager.user_loader
def _load_user(token: str):
    """The cookie holds a session token; the server-side row decides (logout, expiry)."""
    from lms.auth.service import find_signed_in_user

    found = find_signed_in_user(token)  # one query: the session row joined to its user
    if found is None:
        return None
    user, level = found
    user.session_token, user.session_level = token, level
    return user


def acting_user():
    """The signed-in user as a plain object (or the anonymous user) for services and policy."""
    return current_user._get_current_object()


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)  # a view may set a stricter one
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    # Personal data must not sit in shared or browser caches: anything dynamic that a signed-in
    # user sees, and every API answer, is no-store. Static files keep their caching.
    # The cookie tells whether someone is signed in; asking current_user would load the user
    # from the database on every response, /healthz included.
    if request.endpoint != "static" and (
        request.path.startswith("/api/") or "_user_id" in flask_session
    ):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ENV"] == "production",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.after_request(_headers)
