"""Shapes shared by the pages and the API: a certificate with its links, a public answer."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import url_for

from certificates.models import Certificate
from certificates.queries import PublicView
from certificates.render import verify_url


def certificate_view(cert: Certificate) -> dict[str, Any]:
    return {
        "serial": cert.serial, "code": cert.code, "version": cert.version,
        "state": cert.state.value, "full_name": cert.full_name,
        "course_code": cert.course_code, "course_version": cert.course_version,
        "course_title_vi": cert.course_title_vi, "course_title_en": cert.course_title_en,
        "completed_on": cert.completed_on, "issued_at": cert.issued_at,
        "unit_name": cert.unit_name, "revoked_at": cert.revoked_at,
        "revoked_reason": cert.revoked_reason, "pdf_sha256": cert.pdf_sha256,
        "pdf_signed": cert.pdf_signed,
        "pdf_url": url_for("certificates.pdf", ref=cert.serial),
        "verify_url": verify_url(cert),
    }


def public_view(view: PublicView, name_confirmed: bool | None = None) -> dict[str, Any]:
    return {**dataclasses.asdict(view), "name_confirmed": name_confirmed}
