"""HTML pages of certificates: a learner's list and PDF downloads, a unit's certificates with
revoke and reissue (admins in scope), the public verification page and the signing keys.
Same services and schemas as api.py."""

from __future__ import annotations

import base64

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from certificates import keys, queries, service
from certificates.presenters import certificate_view, public_view
from certificates.schemas import NameCheckIn, ReissueIn, RevokeIn
from lms import policy
from lms.api import paginate
from lms.errors import InvalidState, field_errors
from lms.limits import shared
from lms.security import acting_user as _user
from lms.units.queries import get_unit

verify_limit = shared("RATELIMIT_VERIFY", "certificate-verify")
bp = Blueprint("certificates", __name__, template_folder="templates")
UNIT_PAGE_SIZE = 200


@bp.get("/certificates")
@login_required
def mine():
    return render_template("certificates/mine.html",
                           certificates=[certificate_view(c) for c in queries.own(current_user)])


@bp.get("/certificates/<ref>/pdf")
def pdf(ref: str):
    """The stored PDF (rendered on the first request): ETag and Repr-Digest carry its
    SHA-256, and every download has the same bytes. Anyone but its learner and the admins in
    scope gets 404, anonymous users included (a sign-in page would confirm it exists)."""
    cert = queries.get_readable(_user(), ref)
    data = service.pdf_bytes(cert)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.serial}.pdf"'
    response.headers["Cache-Control"] = "private, no-cache"
    digest = base64.b64encode(bytes.fromhex(cert.pdf_sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"  # RFC 9530
    response.set_etag(cert.pdf_sha256)
    return response.make_conditional(request)


@bp.get("/units/<code>/certificates")
@login_required
def unit_certificates(code: str):
    unit = get_unit(code, _user())  # out of scope: 404
    if not policy.can(_user(), policy.Permission.MANAGE_CERTIFICATES, unit):
        abort(404)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    listing = paginate(queries.in_subtree(_user(), unit.path), page, UNIT_PAGE_SIZE)
    return render_template("certificates/unit.html", unit=unit, meta=listing["meta"],
                           certificates=[certificate_view(c) for c in listing["items"]])


def _back(cert_unit_code: str | None):
    target = request.form.get("back") or ""
    if cert_unit_code and target == "unit":
        return redirect(url_for("certificates.unit_certificates", code=cert_unit_code), 303)
    return redirect(url_for("certificates.mine"), 303)


def _refused(exc: Exception, summary: str, not_current: str) -> None:
    flash(summary, "error")
    for field, messages in field_errors(exc).items():
        flash(f"{field}: {'; '.join(map(str, messages))}", "error")
    if isinstance(exc, InvalidState):
        flash(not_current, "error")


@bp.post("/certificates/<ref>/revoke")
@login_required
def revoke(ref: str):
    cert = queries.get_managed(_user(), ref)  # 404 before the form is read
    unit_code = request.form.get("unit") or None
    try:
        data = RevokeIn().load({"reason": request.form.get("reason", "")})
        service.revoke(cert, data["reason"], _user())
    except (ValidationError, InvalidState) as exc:
        _refused(exc, _("The certificate was not revoked."),
                 _("Only the current version of a certificate can be revoked."))
    else:
        flash(_("Certificate %(serial)s is revoked.", serial=cert.serial), "success")
    return _back(unit_code)


@bp.post("/certificates/<ref>/reissue")
@login_required
def reissue(ref: str):
    cert = queries.get_managed(_user(), ref)
    unit_code = request.form.get("unit") or None
    try:
        data = ReissueIn().load({"full_name": request.form.get("full_name") or None})
        new = service.reissue(cert, data["full_name"])
    except (ValidationError, InvalidState) as exc:
        _refused(exc, _("The certificate was not reissued."),
                 _("Only the current version of a certificate can be reissued."))
    else:
        flash(_("Certificate %(old)s is replaced by %(new)s.", old=cert.serial,
                new=new.serial), "success")
    return _back(unit_code)


@bp.get("/verify")
def verify_form():
    code = request.args.get("code")
    if code:
        return redirect(url_for("certificates.verify", code=code.strip()[:64]), 303)
    return render_template("certificates/verify_form.html")


def _verify_page(code: str, name: str | None = None, errors=None):
    view = queries.public_lookup(code, str(get_locale()))
    confirmed = queries.name_confirmed(view, name)
    status = 404 if view.status == "not_found" else 200
    return render_template("certificates/verify.html", code=code[:64],
                           result=public_view(view, confirmed), errors=errors or {}), status


@bp.get("/verify/<code>")
@verify_limit
def verify(code: str):
    return _verify_page(code)


@bp.post("/verify/<code>")
@verify_limit
def verify_name(code: str):
    try:
        name = NameCheckIn().load({"name": request.form.get("name", "")})["name"]
    except ValidationError as exc:
        return _verify_page(code, errors=field_errors(exc))
    return _verify_page(code, name)


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
