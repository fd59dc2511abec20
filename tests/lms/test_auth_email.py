"""The e-mail address a reminder is sent to comes from the sign-in token only when the
provider says it verified it (OIDC Core 5.1 email / email_verified)."""

from __future__ import annotations

import pytest

from lms.auth.claims import identity_from_claims, verified_email
from lms.auth.service import sign_in

CLAIMS = {"iss": "https://vneid.test", "sub": "mail-1", "name": "Phạm Thị Thư",
          "acr": "urn:vneid:loa:2"}


@pytest.mark.parametrize(("value", "verified", "expected"), [
    ("thu.pham@example.vn", True, "thu.pham@example.vn"),
    ("  thu.pham@example.vn ", True, "thu.pham@example.vn"),
    ("thu.pham@example.vn", False, None),
    ("thu.pham@example.vn", "true", None),  # a string is not the JSON true
    ("thu.pham@example.vn", None, None),
    ("no-at-sign.example.vn", True, None),
    ("@example.vn", True, None),
    ("thu@localhost", True, None),
    ("thu pham@example.vn", True, None),
    ("thu@example.vn\r\nBcc: x@evil.example", True, None),  # header injection
    ("a" * 250 + "@example.vn", True, None),
    (["thu@example.vn"], True, None),
])
def test_only_a_verified_plausible_address_is_taken(value, verified, expected):
    assert verified_email(value, verified) == expected
    identity = identity_from_claims({}, {**CLAIMS, "email": value, "email_verified": verified})
    assert identity.email == expected


def test_sign_in_stores_the_verified_address_and_keeps_it_when_absent(db):
    first = identity_from_claims({}, {**CLAIMS, "email": "thu@example.vn",
                                      "email_verified": True})
    user = sign_in(first)
    assert user.email == "thu@example.vn"
    later = identity_from_claims({}, CLAIMS)  # a token without the claim changes nothing
    assert sign_in(later).email == "thu@example.vn"
    changed = identity_from_claims({}, {**CLAIMS, "email": "thu.moi@example.vn",
                                        "email_verified": True})
    assert sign_in(changed).email == "thu.moi@example.vn"
