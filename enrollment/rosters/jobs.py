"""Roster files too large for one request (over ROSTER_SYNC_MAX_BYTES) are checked and saved
by background jobs; the checked file's stage lets the save page show the diff without reading
the file again."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from enrollment.rosters.importer import import_roster
from lms import jobs
from lms.db import session
from lms.errors import InvalidState
from lms.exports import csv_bytes
from lms.people.models import User
from lms.storage import keep_result, load_upload


def _file(job: jobs.Job, unit_code: str, upload: str, level: int) -> tuple[User, bytes, str]:
    actor = session.get(User, job.requested_by_id)
    if actor is not None:
        # Roles count only at the assurance level of the session that submitted the job.
        actor.session_level = level
    stored = load_upload(upload, user_id=job.requested_by_id, unit=unit_code)
    if actor is None or stored is None:
        raise InvalidState(_("The uploaded file has expired; upload it again."))
    data, meta = stored
    return actor, data, meta["filename"]


@jobs.task("rosters.check", label=_l("Roster check"))
def check(job: jobs.Job, *, unit_code: str, upload: str, level: int) -> dict:
    from enrollment.rosters.views import column_labels

    actor, data, filename = _file(job, unit_code, upload, level)
    report = import_roster(actor, unit_code, filename, data, dry_run=True)
    result = {"rows": report.rows, "problems": len(report.problems), "valid": report.valid,
              "added": report.added, "removed": report.removed, "changed": report.changed,
              "unchanged": report.unchanged}
    if not report.valid:
        labels = column_labels()
        body = csv_bytes([_("Line"), _("Column"), _("Reason")],
                         [(p["line"], labels.get(p["column"], p["column"]), p["message"])
                          for p in report.problems])
        return {**result, "file": keep_result(body), "filename": "roster-problems.csv",
                "content_type": "text/csv", "message": _(
                    "%(n)s lines have problems; nothing was written. Download the list, "
                    "correct the file and upload it again.", n=len(report.problems))}
    return {**result, "message": _(
        "Every line is valid: %(added)s to add, %(removed)s to remove, %(changed)s changed.",
        added=report.added, removed=report.removed, changed=report.changed),
        "next": f"/units/{unit_code}/roster/uploads/{upload}", "next_label": _("Review and save")}


@jobs.task("rosters.import", label=_l("Roster import"))
def save(job: jobs.Job, *, unit_code: str, upload: str, import_key: str | None,
         level: int) -> dict:
    actor, data, filename = _file(job, unit_code, upload, level)
    report = import_roster(actor, unit_code, filename, data, dry_run=False,
                           idempotency_key=import_key)
    return {"rows": report.rows, "added": report.added, "removed": report.removed,
            "changed": report.changed, "unchanged": report.unchanged,
            "message": _("Roster saved: %(added)s added, %(removed)s removed, %(changed)s "
                         "changed, %(unchanged)s unchanged.", added=report.added,
                         removed=report.removed, changed=report.changed,
                         unchanged=report.unchanged),
            "next": f"/units/{unit_code}/roster", "next_label": _("Open the roster")}
