"""The one write of the audit log: `record(...)`, flushed in the caller's transaction so that
the event commits (or rolls back) with the change it describes. Nothing updates or deletes."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from flask import has_request_context, request

from lms.audit.models import TARGET_MAX, AuditEvent
from lms.db import session, utcnow
from lms.logs import request_id
from lms.people.models import User
from lms.pii import redact_personal_ids
from lms.units.models import Unit

DETAILS_MAX = 2000  # characters of JSON: a few counts and codes, never a document


class _Current:
    """Marker: the signed-in user of the current request (None outside a request)."""


CURRENT: Any = _Current()


def record(action: str, *, unit: Unit | int | None = None, target: object = None,
           details: dict[str, Any] | None = None, actor: User | _Current | None = CURRENT
           ) -> AuditEvent:
    """Append one event. `actor` defaults to the signed-in user; None is the system (a CLI
    command). `target` and `details` pass through lms.pii.redact_personal_ids, so a 12-digit
    number can never be stored in clear. Flush, never commit. Raises ValueError for details
    too large to be a summary."""
    if isinstance(actor, _Current):
        actor = _signed_in_user()
    if isinstance(unit, int):
        unit = session.get(Unit, unit)
    text = redact_personal_ids(json.dumps(details or {}, ensure_ascii=False, default=str))
    if len(text) > DETAILS_MAX:
        raise ValueError(f"audit details of {action} too large ({len(text)} characters)")
    rid = request_id()
    event = AuditEvent(
        at=utcnow(), actor_id=actor.id if actor is not None else None,
        actor_name=actor.full_name if actor is not None else None, action=action,
        unit_id=unit.id if unit is not None else None,
        unit_path=unit.path if unit is not None else None,
        target=redact_personal_ids(str(target))[:TARGET_MAX] if target is not None else None,
        details=json.loads(text), request_id=None if rid == "-" else rid[:64],
        ip=client_network())
    session.add(event)
    session.flush()
    return event


def _signed_in_user() -> User | None:
    if not has_request_context():
        return None
    from lms.security import acting_user

    user = acting_user()
    return user if getattr(user, "is_authenticated", False) else None


def client_network() -> str | None:
    """The request's client network (IPv4 /24, IPv6 /48), or None outside a request. Behind
    a proxy, PROXY_FIX makes remote_addr the client's (lms/app.py)."""
    if not has_request_context() or not request.remote_addr:
        return None
    try:
        address = ipaddress.ip_address(request.remote_addr)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def home_unit(user: User) -> int | None:
    """The unit a sign-in is filed under: that of the user's highest current role (a
    learner's class, an admin's school, an officer's province), so that its readers see it.
    None for a user without a role (only the system admin sees those)."""
    from lms.people.queries import current_grants
    from lms.policy import ROLE_RANK

    grants = current_grants(user)
    if not grants:
        return None
    return max(grants, key=lambda g: (ROLE_RANK[g.role], g.id)).unit_id
