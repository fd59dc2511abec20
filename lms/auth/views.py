"""/auth/login, /auth/callback, /auth/logout: thin views over oidc.py and service.py."""

from __future__ import annotations

import logging
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from lms import limits, signals
from lms.auth import oidc, service
from lms.auth.claims import ClaimError, acr_for_level, identity_from_claims
from lms.auth.redirects import safe_next
from lms.db import needs_write_lock
from lms.pii import hash_personal_id

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")
log = logging.getLogger(__name__)
PENDING_KEY = "oidc_pending"
PENDING_MAX = 5  # sign-ins started in parallel tabs
PENDING_TTL = 600


@bp.get("/login")
def login_page():
    return render_template("auth/login.html", next=safe_next(request.args.get("next")),
                           level=2 if request.args.get("level") == "2" else 1)


@bp.post("/login")
@limits.sign_in()
def start_login():
    level = 2 if request.form.get("level") == "2" else 1
    try:
        url, pending = oidc.begin(url_for("auth.callback", _external=True),
                                  acr_for_level(current_app.config, level))
    except oidc.LoginFailed as exc:
        return _failed(exc)
    pending["next"] = safe_next(request.form.get("next"))
    pending["level"] = level
    # Bound to this browser's session; the callback takes it out (single use).
    waiting = [p for p in session.get(PENDING_KEY, []) if p["at"] + PENDING_TTL > time.time()]
    session[PENDING_KEY] = [*waiting[-(PENDING_MAX - 1):], pending]
    return redirect(url, 303)


@bp.get("/callback")
@limits.sign_in()
def callback():
    needs_write_lock()  # it creates the user and the session
    state = request.args.get("state", "")
    waiting = session.get(PENDING_KEY, [])
    pending = next((p for p in waiting if p["state"] == state), None) if state else None
    if pending is not None:
        session[PENDING_KEY] = [p for p in waiting if p is not pending]
    try:
        if pending is None or pending["at"] + PENDING_TTL < time.time():
            raise oidc.LoginFailed("state", "unknown, replayed or expired state")
        if request.args.get("error"):
            reason = "cancelled" if request.args["error"] == "access_denied" else "token"
            raise oidc.LoginFailed(reason, request.args["error"][:100])
        claims = oidc.complete(request.args.get("code", ""), pending)
        try:
            identity = identity_from_claims(current_app.config, claims)
        except ClaimError as exc:
            raise oidc.LoginFailed("claims", str(exc)) from exc
        user = service.sign_in(identity)
        if not user.is_active:
            raise oidc.LoginFailed("disabled", "user disabled")
        signals.user_signed_in.send(current_app._get_current_object(), user=user,
                                    personal_id_hash=hash_personal_id(identity.personal_id)
                                    if identity.personal_id else None)
        needed = max(pending["level"], service.required_level(user))
        if identity.level < needed:
            raise oidc.LoginFailed("level", f"level {identity.level} < {needed}")
    except oidc.LoginFailed as exc:
        return _failed(exc)
    token = service.open_session(user, identity.level)
    session.clear()  # a new session identifier at sign-in
    user.session_token, user.session_level = token, identity.level
    login_user(user)
    log.info("user %s signed in at level %s", user.id, identity.level)
    return redirect(pending["next"], 303)


def _failed(error: oidc.LoginFailed):
    log.warning("sign-in refused: %s", error)
    status = {"provider_unreachable": 503, "cancelled": 401, "level": 403,
              "disabled": 403}.get(error.reason, 400)
    return render_template("auth/failed.html", reason=error.reason), status


@bp.get("/logout")
def logout_page():
    if not current_user.is_authenticated:
        return redirect(url_for("lms.home"))
    return render_template("auth/logout.html")


@bp.post("/logout")
def logout():
    if not current_user.is_authenticated:
        abort(401)
    service.close_session(current_user.session_token)
    logout_user()
    session.clear()
    target = oidc.end_session_url(url_for("lms.home", _external=True))
    return redirect(target or url_for("lms.home"), 303)
