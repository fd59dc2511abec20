"""/api/v1 monthly snapshots: lock a period, list and read versions (with the diff of a
correction), and the child units' submission status. Same services as snapshot_views.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask_login import login_required

from enrollment.reports import snapshots
from enrollment.reports.snapshot_schemas import (
    SnapshotDetailOut,
    SnapshotLockIn,
    SnapshotOut,
    SnapshotQuery,
    SubmissionOut,
    SubmissionQuery,
)
from lms.api import Blueprint, list_schema, paginate
from lms.security import acting_user as _user

blp = Blueprint("snapshots_api", __name__, url_prefix="/api/v1",
                description="Monthly locked snapshots of a unit's figures and their submission")


def unit_first(find: Callable) -> Callable:
    """Answer 404 for a unit out of scope before the body or query is read, so that a
    request's validity never tells who may see the unit."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            find(_user(), kwargs["code"])
            return view(*args, **kwargs)
        return wrapper
    return decorate


def _all(items: list) -> dict:
    return {"items": items, "meta": {"page": 1, "per_page": len(items), "total": len(items)}}


@blp.post("/units/<code>/snapshots")
@login_required
@unit_first(snapshots.get_lockable_unit)
@blp.arguments(SnapshotLockIn)
@blp.response(201, SnapshotDetailOut)
@blp.alt_response(409, response="CONFLICT")
def lock(data, code):
    """Lock the unit's figures for a period; again with a note: a correction (version n + 1).
    422 naming `period` or `note`, 409 on a simultaneous lock, 404 out of scope."""
    return snapshots.detail(snapshots.lock(_user(), code, data["period"], data["note"]))


@blp.get("/units/<code>/snapshots")
@login_required
@unit_first(snapshots.get_viewed_unit)
@blp.arguments(SnapshotQuery, location="query")
@blp.response(200, list_schema(SnapshotOut))
def unit_snapshots(args, code):
    """The unit's snapshots, newest period and version first."""
    page = paginate(snapshots.list_snapshots(_user(), code, args.get("period")),
                    args["page"], args["per_page"])
    return {**page, "items": snapshots.describe(list(page["items"]))}


@blp.get("/snapshots/<public_id>")
@login_required
@blp.response(200, SnapshotDetailOut)
def snapshot(public_id):
    """A snapshot with its content, hash and, for a correction, the diff (404 out of scope)."""
    return snapshots.detail(snapshots.get_snapshot(_user(), public_id))


@blp.get("/units/<code>/submissions")
@login_required
@unit_first(snapshots.get_viewed_unit)
@blp.arguments(SubmissionQuery, location="query")
@blp.response(200, list_schema(SubmissionOut))
def submissions(args, code):
    """Each child unit's latest snapshot for the period: on_time, late or missing."""
    period = args.get("period") or snapshots.previous_period(
        snapshots.month_of(snapshots.local_today()))
    return _all(snapshots.submissions(_user(), code, period))
