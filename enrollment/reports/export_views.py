"""`GET /units/<code>/people.csv`: the people list of a unit subtree, streamed when it is small
enough, otherwise a background job whose status page has the (requester-only, expiring)
download. 404 when the actor may not see the people of that unit."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app, redirect, request, stream_with_context, url_for
from flask_login import login_required
from marshmallow import Schema, ValidationError, fields, validate

from enrollment.assignments.queries import today_local
from enrollment.reports import people_export
from lms import jobs, limits
from lms.audit.downloads import audited_get, record_download
from lms.db import needs_write_lock, session, unit_of_work
from lms.errors import ValidationFailed
from lms.security import acting_user as _user
from lms.units.models import CODE_PATTERN, Unit

bp = Blueprint("people_export", __name__)


class PeopleExportQuery(Schema):
    """?course=CODE (repeatable); no course: every course assigned in the subtree."""

    course = fields.List(fields.String(validate=validate.Regexp(CODE_PATTERN)),
                         load_default=list)


def _query_args() -> dict:
    """Unknown arguments are an error (STYLE.md rule 4)."""
    try:
        return PeopleExportQuery().load({name: request.args.getlist(name)
                                         for name in request.args})
    except ValidationError as exc:
        raise ValidationFailed(errors=exc.messages) from exc


@bp.get("/units/<code>/people.csv")
@limits.export()
@login_required
@audited_get
def people_csv(code: str):
    # It may queue a job (a write): SQLite must take the write lock before the first read.
    needs_write_lock()
    args = _query_args()
    export = people_export.export_for(_user(), code, args["course"], today_local())
    limit = int(current_app.config.get("PEOPLE_EXPORT_SYNC_MAX", people_export.SYNC_MAX))
    if people_export.people_count(export) > limit:
        job = jobs.submit("reports.people_export", user=_user(),
                          unit=session.get(Unit, export.unit_id), unit_code=export.unit_code,
                          courses=list(export.courses), today=export.today.isoformat())
        return redirect(url_for("jobs.show", job_id=job.id), 303)
    record_download(people_export.filename(export), export.unit_id, courses=list(export.courses))
    names = people_export.header()  # in the request's language, before the body streams
    response = Response(stream_with_context(_stream(export, names)),
                        mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{people_export.filename(export)}"')
    response.headers["Cache-Control"] = "no-store"
    return response


def _stream(export: people_export.PeopleExport, names: list[str]) -> Iterator[bytes]:
    """Runs after the request's own session was committed and closed: it reads through a
    session of its own (still in the request context, thanks to stream_with_context), which
    the request's teardown rolls back and closes once the last chunk is sent."""
    # Reading only: on SQLite this session must not hold the write lock while it streams.
    unit_of_work().pop("write_lock", None)
    connection = session.connection()
    yield from people_export.stream_csv(connection.connection.driver_connection,
                                        connection.dialect.name, export, names)
