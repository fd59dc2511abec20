"""Rate limits (Flask-Limiter). Counters live in RATELIMIT_STORAGE: Redis in a deployment of
several web nodes (all nodes must share them), process memory by default. Sign-in and the
verify page count per client address (behind a proxy set PROXY_FIX so that the address is the
client's); exports and uploads count per signed-in user (see `user_or_address`)."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

# Every storage any app of this process uses, for `limiter.reset()` outside an app context.
_STORAGES: weakref.WeakSet[Any] = weakref.WeakSet()


class _PerAppLimiter(Limiter):
    """Flask-Limiter keeps one storage per Limiter; ours is a module global decorating every
    blueprint, so each app (several in tests, or a CLI next to a server) keeps its own storage
    in app.extensions and the requests of an app count in that app's storage only."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        if self.enabled and self._storage is not None:
            app.extensions["lms_limits"] = (self._storage, self._limiter)
            _STORAGES.add(self._storage)

    def _mine(self) -> tuple[Any, Any] | None:
        return current_app.extensions.get("lms_limits") if has_app_context() else None

    @property
    def storage(self):  # type: ignore[override]
        mine = self._mine()
        return mine[0] if mine else super().storage

    @property
    def limiter(self):  # type: ignore[override]
        mine = self._mine()
        return mine[1] if mine else super().limiter

    def reset(self) -> None:
        """Clear the counters: the current app's, or every app's outside an app context."""
        mine = self._mine()
        if mine:
            with contextlib.suppress(NotImplementedError):
                mine[0].reset()
            return
        for storage in list(_STORAGES):
            with contextlib.suppress(Exception):  # another app's storage may be gone (Redis)
                storage.reset()


limiter = _PerAppLimiter(key_func=get_remote_address, default_limits=[],
                         headers_enabled=True, strategy="moving-window")


def init_app(app: Flask) -> None:
    storage = app.config["RATELIMIT_STORAGE"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)
    # When Redis is down, a limit is not checked rather than the request failing: learners
    # keep signing in (the outage is logged by Flask-Limiter and shows on /readyz).
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if str(storage).startswith(("redis://", "rediss://", "redis+")):
        # A Redis that does not answer must not hold a request: give up within a second.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_timeout": 1, "socket_connect_timeout": 1})
    limiter.init_app(app)


def configured(key: str) -> Callable[[], str]:
    """A limit read from the configuration at request time (e.g. "30 per minute")."""
    return lambda: current_app.config[key]


def user_or_address() -> str:
    """The signed-in user's id, else the client address. Exports and uploads need an account
    and cost the server per account: a ministry office or a school behind one NAT address
    shares that address among dozens of officers and admins, who must not block each other,
    while one account cannot escape its allowance by changing address. The id is the internal
    row number, never a personal ID."""
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return get_remote_address()


def shared(key: str, scope: str, **options: Any):
    """One limit from the configuration, counted together across every route it decorates
    (the verify page and its JSON share one allowance per client). options go to
    Flask-Limiter's shared_limit (methods=, key_func=)."""
    return limiter.shared_limit(configured(key), scope=scope, **options)


def sign_in(**options: Any):
    """RATELIMIT_SIGNIN, per client address: starting an OIDC sign-in, its callback and the
    school-account form's POST share one allowance (an OIDC sign-in costs two)."""
    return shared("RATELIMIT_SIGNIN", "sign-in", **options)


def export():
    """RATELIMIT_EXPORT, per user: every download of a list, figures, snapshot, job result or
    certificates ZIP shares one allowance."""
    return shared("RATELIMIT_EXPORT", "export", key_func=user_or_address)


def upload():
    """RATELIMIT_UPLOAD, per user: roster checks and imports, unit imports (pages and API)."""
    return shared("RATELIMIT_UPLOAD", "upload", key_func=user_or_address)
