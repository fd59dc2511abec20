"""A certificate as a signed Open Badges 3.0 verifiable credential (certificates.credential):
a download for the learner's wallet and the same document in the JSON API. Its learner or an
admin in scope only (404 for anyone else, signed in or not); 409 unless the certificate is
valid."""

from __future__ import annotations

import json

import marshmallow as ma
from flask import Blueprint, Response

from certificates import credential, queries
from lms.api import Blueprint as ApiBlueprint
from lms.security import acting_user as _user

bp = Blueprint("certificate_credentials", __name__)
blp = ApiBlueprint("certificate_credentials_api", __name__, url_prefix="/api/v1",
                   description="Certificates as Open Badges 3.0 verifiable credentials")


class CredentialOut(ma.Schema):
    """An OpenBadgeCredential (W3C VC data model 2.0) with its eddsa-jcs-2022 proof; the
    nested objects are described by Open Badges 3.0."""

    context = ma.fields.List(ma.fields.String(), attribute="@context", data_key="@context")
    id = ma.fields.String(metadata={"description": "the certificate's verification URL"})
    type = ma.fields.List(ma.fields.String())
    name = ma.fields.String()
    description = ma.fields.String()
    issuer = ma.fields.Dict()
    validFrom = ma.fields.String()
    credentialSubject = ma.fields.Dict()
    proof = ma.fields.Dict()


@bp.get("/certificates/<ref>/credential.json")
def download(ref: str):
    """The credential as a file. application/json rather than a VC media type: the VC data
    model's registered type changed between drafts (application/vc+ld+json, application/vc)
    while every wallet import and browser takes JSON; the @context inside says what it is."""
    cert = queries.get_readable(_user(), ref)
    document = credential.export(cert)
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    response = Response(body.encode("utf-8"), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.serial}.json"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.get("/certificates/<ref>/credential")
@blp.response(200, CredentialOut)
@blp.alt_response(409, response="CONFLICT")
def show(ref: str):
    """The certificate as a signed Open Badges 3.0 credential (eddsa-jcs-2022 proof by the
    key published at /.well-known/jwks.json). 404 unless it is the caller's or in their admin
    scope; 409 when it is revoked or superseded."""
    return credential.export(queries.get_readable(_user(), ref))
