"""Everything VNeID-specific in one place: which claim holds what, and which `acr` value means
which assurance level. VNeID's relying-party specification is handed out at onboarding, so
each name can be overridden by configuration (OIDC_CLAIM_*, OIDC_ACR_LEVELS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from lms.pii import check_personal_id, normalize_name

DEFAULT_CLAIMS = {
    "personal_id": "pid",  # the 12-digit personal identification number
    "full_name": "name",
    "birth_date": "birthdate",  # OIDC Core 5.1: YYYY-MM-DD
    "email": "email",  # OIDC Core 5.1, used only with email_verified = true
}
EMAIL_MAX = 254
# acr value → level. Level 2 is VNeID's "mức 2" (identity verified in person, with biometrics).
DEFAULT_ACR_LEVELS = {
    "urn:vneid:loa:1": 1,
    "urn:vneid:loa:2": 2,
}
# The minimum level a session needs for each role to count (configurable: AUTH_MIN_LEVELS).
DEFAULT_MIN_LEVELS = {"learner": 1, "unit_admin": 2, "officer": 2, "system_admin": 2}


class ClaimError(ValueError):
    """The token's claims cannot identify a person."""


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    full_name: str
    birth_on: date | None
    personal_id: str | None
    level: int
    email: str | None = None  # only an address the provider says it verified


def claim_names(config: Mapping[str, Any]) -> dict[str, str]:
    return {key: config.get(f"OIDC_CLAIM_{key.upper()}") or name
            for key, name in DEFAULT_CLAIMS.items()}


def acr_levels(config: Mapping[str, Any]) -> dict[str, int]:
    return dict(config.get("OIDC_ACR_LEVELS") or DEFAULT_ACR_LEVELS)


def acr_for_level(config: Mapping[str, Any], level: int) -> str:
    """The acr value to request for at least `level`."""
    return min((acr for acr, lv in acr_levels(config).items() if lv >= level),
               key=lambda acr: acr_levels(config)[acr])


def identity_from_claims(config: Mapping[str, Any], claims: Mapping[str, Any]) -> Identity:
    """Map verified claims to an Identity. Raises ClaimError for missing or malformed claims;
    an unknown acr is level 0 (below every minimum), never a guess."""
    names = claim_names(config)
    full_name = normalize_name(str(claims.get(names["full_name"]) or ""))
    if not full_name or len(full_name) > 200:
        raise ClaimError("the token has no usable name")
    birth_on = None
    raw_birth = claims.get(names["birth_date"])
    if raw_birth:
        try:
            birth_on = date.fromisoformat(str(raw_birth))
        except ValueError as exc:
            raise ClaimError("the birth date claim is not YYYY-MM-DD") from exc
    personal_id = claims.get(names["personal_id"])
    if personal_id is not None:
        personal_id = str(personal_id)
        if check_personal_id(personal_id, birth_on):
            raise ClaimError("the personal ID claim is not a consistent 12-digit number")
    level = acr_levels(config).get(str(claims.get("acr") or ""), 0)
    return Identity(issuer=str(claims["iss"]), subject=str(claims["sub"]), full_name=full_name,
                    birth_on=birth_on, personal_id=personal_id, level=level,
                    email=verified_email(claims.get(names["email"]),
                                         claims.get("email_verified")))


def verified_email(value: Any, verified: Any) -> str | None:
    """The address when the provider vouches for it (email_verified is the JSON true) and it
    looks like one; None otherwise. Reminder e-mails go only to such addresses."""
    if verified is not True or not isinstance(value, str):
        return None
    address = value.strip()
    local, _, domain = address.rpartition("@")
    if (not local or "." not in domain or len(address) > EMAIL_MAX
            or any(c.isspace() or ord(c) < 32 for c in address)):
        return None
    return address
