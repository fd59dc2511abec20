"""Signal subscribers: link rosters at sign-in."""

from __future__ import annotations

from enrollment.rosters import service


def on_signed_in(_app, user, personal_id_hash, **_kwargs) -> None:
    service.link_user(user, personal_id_hash)
