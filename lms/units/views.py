"""HTML pages for units: browse the tree, add a unit, import a file of units."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError

from lms import limits, policy
from lms.api import paginate
from lms.errors import Conflict, NotFound, ValidationFailed, field_errors, line_problems
from lms.security import acting_user as _user
from lms.units import importer, queries, service
from lms.units.models import OFFICIAL_KINDS, UnitKind
from lms.units.schemas import UnitCreateSchema, UnitQuerySchema

bp = Blueprint("units", __name__, url_prefix="/units", template_folder="templates")



@bp.get("/")
def index():
    roots = paginate(queries.list_units(_user(), kind=UnitKind.MINISTRY), 1, 1)["items"]
    if not roots:
        return render_template("units/empty.html")
    return redirect(url_for("units.show", code=roots[0].code))


@bp.get("/<code>")
def show(code: str):
    args = UnitQuerySchema().load(
        {k: v for k, v in request.args.items() if k in {"page", "q"}})
    user = _user()
    unit = queries.get_unit(code, user)
    children = paginate(queries.list_units(user, parent_code=code, q=args.get("q")),
                        args["page"], 100)
    may_manage = policy.can(user, policy.Permission.MANAGE_UNITS, unit)
    child_kinds = [k for k in UnitKind
                   if k not in OFFICIAL_KINDS and service.placement_problem(k, unit) is None]
    return render_template("units/show.html", unit=unit, ancestors=queries.ancestors(unit),
                           children=children, may_manage=may_manage and bool(child_kinds),
                           may_manage_accounts=may_manage and unit.kind is UnitKind.CLASS,
                           may_certify=unit.kind not in OFFICIAL_KINDS and policy.can(
                               user, policy.Permission.MANAGE_CERTIFICATES, unit),
                           child_kinds=child_kinds, kind_label=service.kind_label,
                           q=args.get("q", ""))


@bp.post("/<code>/children")
@login_required
def create_child(code: str):
    parent = queries.get_unit(code, _user())  # out of scope: 404, not a flash
    if not policy.can(_user(), policy.Permission.MANAGE_UNITS, parent):
        raise NotFound()
    form = {k: request.form.get(k, "") for k in ("code", "name", "kind")}
    try:
        data = UnitCreateSchema().load({**form, "parent_code": code})
        unit = service.create_unit(_user(), **data)
    except (ValidationError, ValidationFailed, Conflict) as exc:
        flash(_("The unit was not created."), "error")
        for field, messages in field_errors(exc).items():
            flash(f"{field}: {'; '.join(map(str, messages))}", "error")
        return redirect(url_for("units.show", code=code), 303)
    flash(_("Unit %(name)s was created.", name=unit.name), "success")
    return redirect(url_for("units.show", code=unit.code), 303)


def _column_labels() -> dict[str, str]:
    return {"code": _("Code"), "name": _("Name"), "kind": _("Type"),
            "parent_code": _("Parent unit code"), "file": _("File")}


@bp.post("/<code>/import")
@limits.upload()
@login_required
def import_file(code: str):
    unit = queries.get_unit(code, _user())
    if not policy.can(_user(), policy.Permission.MANAGE_UNITS, unit):
        raise NotFound()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or XLSX file."), "error")
        return redirect(url_for("units.show", code=unit.code), 303)
    dry_run = request.form.get("action") != "import"
    try:
        report = importer.import_units(_user(), upload.filename, upload.stream,
                                       dry_run=dry_run)
    except ValidationFailed as exc:
        return render_template("units/import_report.html", unit=unit, report=None,
                               problems=line_problems(exc), refused=True,
                               column_labels=_column_labels()), 422
    return render_template("units/import_report.html", unit=unit, report=report,
                           problems=report.problems, refused=not report.valid,
                           column_labels=_column_labels())
