"""/api/v1 roster routes: import (dry run first), entries, exemptions, link conflicts."""

from __future__ import annotations

from flask_login import login_required
from sqlalchemy import func, select

from enrollment.rosters import queries, service
from enrollment.rosters.importer import import_roster
from enrollment.rosters.schemas import (
    ConflictOut,
    EntryOut,
    EntryQuerySchema,
    ExemptionIn,
    ResolveIn,
    RosterImportArgs,
    RosterReportOut,
    RosterUploadSchema,
)
from lms import limits
from lms.api import Blueprint, list_schema
from lms.db import session
from lms.security import acting_user as _user
from lms.units import queries as unit_queries

blp = Blueprint("rosters_api", __name__, url_prefix="/api/v1",
                description="Rosters of the people who must complete")



def _report(report):
    return {**report.__dict__, "valid": report.valid}


@blp.post("/units/<code>/roster/import")
@limits.upload()
@login_required
@blp.arguments(RosterImportArgs, location="query")
@blp.arguments(RosterUploadSchema, location="files")
@blp.response(200, RosterReportOut)
@blp.alt_response(409, response="CONFLICT")
def import_file(args, files, code):
    """Check every line (dry_run=true, the default) or replace the roster (all or nothing)."""
    upload = files["file"]
    return _report(import_roster(_user(), code, upload.filename or "", upload.read(),
                                 dry_run=args["dry_run"],
                                 idempotency_key=args.get("idempotency_key")))


@blp.get("/units/<code>/roster")
@login_required
@blp.arguments(EntryQuerySchema, location="query")
@blp.response(200, list_schema(EntryOut))
def list_entries(args, code):
    unit = unit_queries.get_unit(code, _user())
    query = queries.entries_under(_user(), unit, args.get("status"))
    total = session.execute(select(func.count()).select_from(
        query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.limit(args["per_page"]).offset(
        (args["page"] - 1) * args["per_page"])).all()
    return {"items": [queries.entry_view(entry, unit_code) for entry, unit_code in rows],
            "meta": {"page": args["page"], "per_page": args["per_page"], "total": total}}


@blp.put("/roster-entries/<int:entry_id>/exemption")
@login_required
@blp.arguments(ExemptionIn)
@blp.response(200, EntryOut)
@blp.alt_response(409, response="CONFLICT")
def exempt(data, entry_id):
    entry = service.exempt(_user(), entry_id, data["reason"], data["note"])
    return queries.entry_view(entry, "")


@blp.delete("/roster-entries/<int:entry_id>/exemption")
@login_required
@blp.response(200, EntryOut)
def end_exemption(entry_id):
    return queries.entry_view(service.end_exemption(_user(), entry_id), "")


@blp.get("/units/<code>/link-conflicts")
@login_required
@blp.response(200, ConflictOut(many=True))
def conflicts(code):
    unit = unit_queries.get_unit(code, _user())
    return session.execute(queries.open_conflicts(_user(), unit)).scalars().all()


@blp.post("/link-conflicts/<int:conflict_id>/resolve")
@login_required
@blp.arguments(ResolveIn)
@blp.response(200, ConflictOut)
def resolve(data, conflict_id):
    return service.resolve_conflict(_user(), conflict_id, data["user_id"])
