"""Certificate input and output schemas (marshmallow 4). Unknown fields are an error."""

from __future__ import annotations

import marshmallow as ma

from certificates.service import REASON_MAX

NAME_MAX = 200


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


class RevokeIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=[
        ma.validate.Length(min=3, max=REASON_MAX), _not_blank])


class ReissueIn(ma.Schema):
    full_name = ma.fields.String(load_default=None, validate=[
        ma.validate.Length(min=1, max=NAME_MAX), _not_blank], metadata={
        "description": "the corrected name; by default the name now on the learner's account"})


class NameCheckIn(ma.Schema):
    name = ma.fields.String(required=True, validate=[
        ma.validate.Length(min=1, max=NAME_MAX), _not_blank])


class CertificateOut(ma.Schema):
    serial = ma.fields.String()
    code = ma.fields.String(metadata={"description": "the public verification code"})
    version = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "valid | revoked | superseded"})
    full_name = ma.fields.String()
    course_code = ma.fields.String()
    course_version = ma.fields.Integer()
    course_title_vi = ma.fields.String()
    course_title_en = ma.fields.String(allow_none=True)
    completed_on = ma.fields.Date()
    issued_at = ma.fields.AwareDateTime()
    issuer = ma.fields.String(attribute="unit_name", allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_reason = ma.fields.String(allow_none=True)
    pdf_sha256 = ma.fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the stored PDF; null until it is first downloaded"})
    pdf_signed = ma.fields.Boolean(allow_none=True)
    pdf_url = ma.fields.String()
    verify_url = ma.fields.String()


class VerifyOut(ma.Schema):
    """The same keys for every answer, known code or not; null where nothing is disclosed."""

    status = ma.fields.String(metadata={
        "description": "valid | revoked | superseded | not_found"})
    serial = ma.fields.String(allow_none=True)
    full_name = ma.fields.String(allow_none=True)
    course_code = ma.fields.String(allow_none=True)
    course_version = ma.fields.Integer(allow_none=True)
    course_title = ma.fields.String(allow_none=True)
    completed_on = ma.fields.Date(allow_none=True)
    issued_on = ma.fields.Date(allow_none=True)
    issuer = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_reason = ma.fields.String(allow_none=True)
    superseded_by = ma.fields.String(allow_none=True, metadata={
        "description": "the newer version's verification code"})
    name_confirmed = ma.fields.Boolean(allow_none=True, metadata={
        "description": "whether the name given matches (only when one was given)"})
