"""A user's own in-app notifications: the list (newest first), the unread count, and marking
them read. Every query is scoped to the user in SQL: nobody reads or marks another's."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select, update

from enrollment.reports.snapshot_models import Notification
from lms.db import session, utcnow
from lms.people.models import User


def user_notifications(user: User, *, unread_only: bool = False) -> Select[tuple[Notification]]:
    query = (select(Notification).where(Notification.user_id == user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def count_unread(user: User) -> int:
    return session.execute(select(func.count()).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def mark_read(user: User, ids: Collection[int] | None = None) -> int:
    """Mark the user's unread notifications read: all of them, or those among `ids` that are
    theirs (other ids are ignored, never confirmed). Returns how many changed."""
    query = update(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(Notification.id.in_(sorted(set(ids))))
    changed = session.execute(query.values(read_at=utcnow()),
                              execution_options={"synchronize_session": False}).rowcount
    session.flush()
    return int(changed or 0)
