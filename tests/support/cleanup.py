"""Removing what committed tests wrote. Certificates are documents of record (their users
are RESTRICT), so they go first."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from certificates.models import Certificate
from lms.people.models import User


def delete_users(session: Session, ids: Iterable[int]) -> None:
    ids = list(ids)
    session.execute(delete(Certificate).where(Certificate.user_id.in_(ids)))
    session.execute(delete(User).where(User.id.in_(ids)))
