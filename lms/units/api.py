"""/api/v1/units: list, read, create and import units, scoped by the policy."""

from __future__ import annotations

import marshmallow as ma
from flask_login import login_required
from flask_smorest.fields import Upload

from lms import limits
from lms.api import Blueprint, list_schema, paginate
from lms.security import acting_user as _user
from lms.units import importer, queries, service
from lms.units.schemas import (
    UnitCreateSchema,
    UnitImportQuerySchema,
    UnitImportResultSchema,
    UnitQuerySchema,
    UnitSchema,
)

blp = Blueprint("units_api", __name__, url_prefix="/api/v1/units",
                description="Org units: official provinces and communes, schools, classes, "
                            "agencies and departments")


class UploadSchema(ma.Schema):
    file = Upload(required=True)



@blp.get("")
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, list_schema(UnitSchema))
def list_units(args):
    """Units the caller may see. The official tree is public; the rest is scoped."""
    query = queries.list_units(_user(), kind=args.get("kind"),
                               parent_code=args.get("parent"), q=args.get("q"))
    return paginate(query, args["page"], args["per_page"])


@blp.get("/<code>")
@blp.response(200, UnitSchema)
def get_unit(code):
    return queries.get_unit(code, _user())


@blp.post("")
@login_required
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema)
@blp.alt_response(409, response="CONFLICT")
def create_unit(data):
    """Create a school, class, agency or department under a unit the caller manages."""
    return service.create_unit(_user(), **data)


@blp.post("/import")
@limits.upload()
@login_required
@blp.arguments(UnitImportQuerySchema, location="query")
@blp.arguments(UploadSchema, location="files")
@blp.response(200, UnitImportResultSchema)
def import_units(args, files):
    """Validate a CSV/XLSX of units; with dry_run=false, write all of it or nothing."""
    upload = files["file"]
    report = importer.import_units(_user(), upload.filename or "", upload.stream,
                                   dry_run=args["dry_run"])
    return {**report.__dict__, "valid": report.valid}
