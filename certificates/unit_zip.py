"""A unit's valid certificates as one ZIP for its admins: every PDF (as stored, rendered and
kept on first use) under `<issuing unit code>/<serial>.pdf`, with the list of names, courses,
serials and verification codes as `danh-sach.pdf` and `danh-sach.csv`. Small units are served
in the request, large ones by the `certificates.zip` job. The same certificates give the same
bytes: fixed entry order, timestamps and attributes, and PDFs that never change once kept."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, select, union
from sqlalchemy.orm import aliased

from certificates import queries, service
from certificates.models import LOCAL_TZ, Certificate, CertificateState, serial_of
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms import jobs, policy
from lms.db import session
from lms.errors import NotFound
from lms.exports import csv_bytes
from lms.pdf import render_pdf, template_environment
from lms.people.models import Role, RoleGrant, User
from lms.storage import keep_result, result_path
from lms.units.models import Unit, UnitKind, subtree_bounds
from lms.units.queries import get_unit

JOB_KIND = "certificates.zip"
SYNC_MAX = 200  # certificates; above this the ZIP is a job (config CERTIFICATE_ZIP_SYNC_MAX)
BATCH = 50  # certificates loaded, rendered and (in a job) committed at a time
LIST_PDF, LIST_CSV = "danh-sach.pdf", "danh-sach.csv"
TEMPLATES = Path(__file__).resolve().parent / "templates"
LIST_TEMPLATE = "documents/certificate_list.html"
# ZIP's own epoch: no entry carries the time it was written, so equal inputs give equal bytes.
ENTRY_TIME = (1980, 1, 1, 0, 0, 0)
# Classes and departments issue nothing: their certificates are those their school or agency
# issued to the people on their roster.
BELOW_ISSUER = (UnitKind.CLASS, UnitKind.DEPARTMENT)

# The list may run over several pages for a large unit: the table header repeats on each.
LIST_CSS = """
@page { size: A4 landscape; margin: 12mm 12mm 14mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-size: 9pt; line-height: 1.25; margin: 0; }
h1 { font-size: 14pt; margin: 0 0 1mm; }
p { margin: 0 0 1.5mm; }
.unit { font-weight: bold; font-size: 11pt; }
.meta { color: #333; }
.url { overflow-wrap: anywhere; }
table.list { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.list th, table.list td { border: 0.5pt solid black; padding: 1.2pt 3pt;
  vertical-align: top; overflow-wrap: anywhere; }
table.list th { font-weight: bold; text-align: left; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.no { text-align: right; }
.mono { letter-spacing: 0.2pt; }
col.no { width: 9mm; }
col.name { width: 60mm; }
col.course { width: 65mm; }
col.serial { width: 40mm; }
col.code { width: 70mm; }
col.date { width: 29mm; }
"""


@dataclass(frozen=True)
class ListRow:
    """One line of the list (and one PDF of the ZIP)."""

    id: int
    serial: str
    code: str
    full_name: str
    course_code: str
    course_title: str
    completed_on: date
    unit_code: str

    @property
    def entry_name(self) -> str:
        return f"{self.unit_code}/{self.serial}.pdf"

    @property
    def code_grouped(self) -> str:
        """In groups of four, as people read it aloud; /verify ignores the spaces."""
        return " ".join(self.code[i:i + 4] for i in range(0, len(self.code), 4))

    @property
    def course(self) -> str:
        return f"{self.course_code} · {self.course_title}"


def unit_for_zip(actor: User | None, code: str) -> Unit:
    """The unit if the actor manages certificates over it. Raises NotFound otherwise (out of
    scope, or only visible as public reference data)."""
    unit = get_unit(code, actor)
    if not policy.can(actor, policy.Permission.MANAGE_CERTIFICATES, unit):
        raise NotFound()
    return unit


def valid_certificates(actor: User | None, unit: Unit) -> Select[tuple[Certificate]]:
    """The valid certificates of the unit within the actor's scope (in SQL): those issued in
    its subtree, or for a class or department, those its school or agency issued to the
    people on its roster (not those who left it) or holding a learner grant in it."""
    if unit.kind in BELOW_ISSUER:
        issuer = service.issuer_of(unit)
        if issuer is None:
            return queries.in_subtree(actor, unit.path).where(false())
        low, high = subtree_bounds(unit.path)
        on_roster = (select(RosterEntry.user_id).join(Unit, Unit.id == RosterEntry.unit_id)
                     .where(Unit.path >= low, Unit.path < high,
                            RosterEntry.status != EntryStatus.LEFT,
                            RosterEntry.user_id.is_not(None)))
        # As service.issuing_unit: a learner grant places someone who is on no roster.
        granted = (select(RoleGrant.user_id).join(Unit, Unit.id == RoleGrant.unit_id)
                   .where(Unit.path >= low, Unit.path < high, RoleGrant.role == Role.LEARNER,
                          RoleGrant.revoked_at.is_(None)))
        members = union(on_roster, granted)
        query = queries.in_subtree(actor, issuer.path).where(Certificate.user_id.in_(members))
    else:
        query = queries.in_subtree(actor, unit.path)
    return query.where(Certificate.state == CertificateState.VALID)


def count(actor: User | None, unit: Unit) -> int:
    """How many certificates the ZIP would hold: what decides request or job."""
    query = valid_certificates(actor, unit).order_by(None)
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def list_rows(actor: User | None, unit: Unit) -> list[ListRow]:
    """The list in file order: by issuing unit, then name, then serial."""
    issuer = aliased(Unit)
    english = str(get_locale()) == "en"
    query = (valid_certificates(actor, unit)
             .with_only_columns(Certificate.id, Certificate.issued_at, Certificate.code,
                                Certificate.full_name, Certificate.course_code,
                                Certificate.course_title_vi, Certificate.course_title_en,
                                Certificate.completed_on, issuer.code)
             .join(issuer, issuer.id == Certificate.unit_id))
    rows = []
    for (cert_id, issued_at, code, name, course_code, title_vi, title_en, completed_on,
         unit_code) in session.execute(query):
        rows.append(ListRow(
            id=cert_id, serial=serial_of(issued_at.astimezone(LOCAL_TZ).year, cert_id),
            code=code, full_name=name, course_code=course_code,
            course_title=title_en if english and title_en else title_vi,
            completed_on=completed_on, unit_code=unit_code))
    return rows


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def list_header() -> list[str]:
    return [_("No."), _("Full name"), _("Course code"), _("Course"), _("Serial"),
            _("Verification code"), _("Completed on"), _("Issued by")]


def list_csv(rows: Sequence[ListRow]) -> bytes:
    return csv_bytes(list_header(), ((n, r.full_name, r.course_code, r.course_title, r.serial,
                                      r.code, _day(r.completed_on), r.unit_code)
                                     for n, r in enumerate(rows, 1)))


def list_pdf(unit: Unit, rows: Sequence[ListRow]) -> bytes:
    """The list as a PDF table: one page for a class, more (with the header repeated) when the
    unit has more certificates than fit on one."""
    labels = {
        "title": _("Certificates issued"), "number": _("No."), "name": _("Full name"),
        "course": _("Course"), "serial": _("Serial"), "code": _("Verification code"),
        "completed_on": _("Completed on"),
        "count": ngettext("%(num)s valid certificate", "%(num)s valid certificates", len(rows)),
        "verify": _("Check any of them at"),
    }
    verify_base = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/verify/"
    html = template_environment(TEMPLATES).get_template(LIST_TEMPLATE).render(
        lang=str(get_locale() or "vi"), labels=labels, unit_name=unit.name, unit_code=unit.code,
        verify_base=verify_base,
        rows=[{"full_name": r.full_name, "course": r.course, "serial": r.serial,
               "code_grouped": r.code_grouped, "completed_on": _day(r.completed_on)}
              for r in rows])
    return render_pdf(html, stylesheets=[LIST_CSS])


def _entry(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ENTRY_TIME)
    info.compress_type = compress
    info.create_system = 3  # Unix, whatever machine writes it
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
    return info


def _batches(rows: Sequence[ListRow]) -> Iterator[Sequence[ListRow]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def write_zip(target: BinaryIO, actor: User | None, unit: Unit, *,
              commit_renders: bool = False) -> int:
    """Write the unit's ZIP into target (a seekable binary file) and return how many
    certificates it holds. PDFs not yet kept are rendered and kept on the way
    (service.pdf_bytes); commit_renders=True commits those after each batch (a job's own
    transaction), so a long job neither loses its renders to a late failure nor holds
    SQLite's write lock from start to end. Raises what the queries and rendering raise."""
    rows = list_rows(actor, unit)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(_entry(LIST_PDF, zipfile.ZIP_STORED), list_pdf(unit, rows))
        archive.writestr(_entry(LIST_CSV, zipfile.ZIP_DEFLATED), list_csv(rows))
        for batch in _batches(rows):
            certificates = {c.id: c for c in session.execute(
                select(Certificate).where(Certificate.id.in_([r.id for r in batch]))).scalars()}
            rendered = 0
            for row in batch:
                cert = certificates[row.id]
                rendered += cert.pdf_sha256 is None
                # PDFs are compressed already: stored as they are, byte for byte.
                archive.writestr(_entry(row.entry_name, zipfile.ZIP_STORED),
                                 service.pdf_bytes(cert))
            if commit_renders and rendered:
                session.commit()  # the conditional UPDATEs of pdf_bytes: idempotent
            for cert in certificates.values():
                session.expunge(cert)  # a province's ZIP must not keep every row in memory
    return len(rows)


def filename(unit: Unit) -> str:
    return f"certificates-{unit.code}.zip"


def submit(actor: User, unit: Unit) -> jobs.Job:
    """Queue the ZIP of a unit the caller checked with unit_for_zip; flushed, dispatched after
    the caller commits."""
    return jobs.submit(JOB_KIND, user=actor, unit=unit, unit_code=unit.code,
                       level=getattr(actor, "session_level", 0))


@jobs.task(JOB_KIND, label=_l("Certificates (ZIP)"))
def zip_job(job: jobs.Job, *, level: int = 0, **_params: Any) -> dict:
    """The ZIP, written in the job's own transaction and kept for its requester. The scope is
    checked again: grants may have been revoked since the job was queued."""
    actor = session.get(User, job.requested_by_id)
    unit = session.get(Unit, job.unit_id) if job.unit_id is not None else None
    if actor is not None:
        # Roles count only at the assurance level of the session that submitted the job.
        actor.session_level = level
    if actor is None or unit is None or not policy.can(
            actor, policy.Permission.MANAGE_CERTIFICATES, unit):
        raise NotFound()
    with result_path(".zip") as path:
        with path.open("wb") as out:
            rows = write_zip(out, actor, unit, commit_renders=True)
        key = keep_result(path)
    return {"file": key, "filename": filename(unit), "content_type": "application/zip",
            "rows": rows}
