"""/api/v1 certificates: a learner's own, one by serial or code, revoke and reissue (admins in
scope), a unit's list, and the public verification answer. Same services as views.py."""

from __future__ import annotations

from functools import wraps

from flask_babel import get_locale
from flask_login import current_user, login_required

from certificates import queries, service
from certificates.presenters import certificate_view, public_view
from certificates.schemas import CertificateOut, NameCheckIn, ReissueIn, RevokeIn, VerifyOut
from lms.api import Blueprint, PageQuerySchema, list_schema, paginate
from lms.limits import shared
from lms.security import acting_user as _user
from lms.units.queries import get_unit

verify_limit = shared("RATELIMIT_VERIFY", "certificate-verify")
blp = Blueprint("certificates_api", __name__, url_prefix="/api/v1",
                description="Certificates: own, per unit, revoke, reissue, public verification")


CertificateList = list_schema(CertificateOut)


def managed_first(view):
    """404 for a certificate out of the caller's admin scope before the body is read, so that
    a request's validity never tells whether the certificate exists."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        queries.get_managed(_user(), kwargs["ref"])
        return view(*args, **kwargs)
    return wrapper


def _all(items: list) -> dict:
    return {"items": items, "meta": {"page": 1, "per_page": len(items), "total": len(items)}}


@blp.get("/me/certificates")
@login_required
@blp.response(200, CertificateList)
def mine():
    """The signed-in learner's certificates, newest first (every version)."""
    return _all([certificate_view(c) for c in queries.own(current_user)])


@blp.get("/certificates/<ref>")
@blp.response(200, CertificateOut)
def show(ref):
    """One certificate by serial or verification code: its learner's, or in an admin's
    scope; 404 otherwise, anonymous callers included."""
    return certificate_view(queries.get_readable(_user(), ref))


@blp.post("/certificates/<ref>/revoke")
@login_required
@managed_first
@blp.arguments(RevokeIn)
@blp.response(200, CertificateOut)
@blp.alt_response(409, response="CONFLICT")
def revoke(data, ref):
    """Revoke with a reason: the completion stops counting in unlocked figures. 409 when it
    is not the current version."""
    cert = queries.get_managed(_user(), ref)
    return certificate_view(service.revoke(cert, data["reason"], _user()))


@blp.post("/certificates/<ref>/reissue")
@login_required
@managed_first
@blp.arguments(ReissueIn)
@blp.response(201, CertificateOut)
@blp.alt_response(409, response="CONFLICT")
def reissue(data, ref):
    """A corrected copy (new version, new code); the old one becomes superseded."""
    cert = queries.get_managed(_user(), ref)
    return certificate_view(service.reissue(cert, data["full_name"]))


@blp.get("/units/<code>/certificates")
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, CertificateList)
def unit_certificates(args, code):
    """Certificates issued by the unit and the units below it, in the caller's scope."""
    unit = get_unit(code, _user())
    page = paginate(queries.in_subtree(_user(), unit.path), args["page"], args["per_page"])
    return {**page, "items": [certificate_view(c) for c in page["items"]]}


@blp.get("/verify/<code>")
@verify_limit
@blp.response(200, VerifyOut)
def verify(code):
    """Public: valid, revoked (date, reason), superseded (the newer code) or not_found; the
    same keys and the same work for every code. Rate-limited per client address."""
    return public_view(queries.public_lookup(code, str(get_locale())))


@blp.post("/verify/<code>")
@verify_limit
@blp.arguments(NameCheckIn)
@blp.response(200, VerifyOut)
def verify_name(data, code):
    """Public: as GET, and whether `name` (as printed on a paper copy) is the certificate's.
    The name travels in the body, never in the URL."""
    view = queries.public_lookup(code, str(get_locale()))
    return public_view(view, queries.name_confirmed(view, data["name"]))
