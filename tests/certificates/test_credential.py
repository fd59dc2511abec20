"""A certificate as an Open Badges 3.0 verifiable credential: its eddsa-jcs-2022 proof holds
under the published JWKS and breaks when any field or the key changes; only the learner and
admins in scope get it (404 otherwise, 409 once revoked); no personal ID or birth date in it;
the same bytes on every download."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date

import pytest
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select

from certificates import service
from certificates.credential import (
    base58btc,
    canonical,
    credential,
    from_base58btc,
    verify_credential,
)
from certificates.keys import ALGORITHM
from certificates.models import Certificate
from enrollment import service as enrollment_service
from lms.people.models import Role
from tests.certificates.conftest import COURSE_CODE
from tests.support.factories import login

NAME = "Nguyễn Thị Ngọc Ánh"
BIRTH = date(2012, 9, 5)
PERSONAL_ID = "008312001234"  # 008: place, 3: female born in the 2000s, 12: 2012, serial


@pytest.fixture
def learner_cert(db, make, school):
    user = make.user(NAME, personal_id=PERSONAL_ID, birth_on=BIRTH)
    make.grant(user, Role.LEARNER, school[1])
    enrollment = enrollment_service.enroll(user, COURSE_CODE)
    assert enrollment_service._complete(enrollment)
    cert = db.execute(select(Certificate).where(
        Certificate.enrollment_id == enrollment.id)).scalar_one()
    return user, cert


def _published_keys(client) -> KeySet:
    return KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())


def _download(client, cert):
    return client.get(f"/certificates/{cert.serial}/credential.json")


def test_credential_verifies_with_the_published_keys(client, learner_cert):
    user, cert = learner_cert
    login(client, user)
    response = _download(client, cert)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{cert.serial}.json"'
    doc = json.loads(response.data)
    assert verify_credential(doc, _published_keys(client))

    assert doc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                               "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["id"].endswith(f"/verify/{cert.code}")
    assert doc["validFrom"].endswith("Z") and doc["validFrom"][:10] == \
        cert.issued_at.strftime("%Y-%m-%d")
    assert doc["issuer"]["name"] == "Trường Tiểu học Kim Đồng"
    assert doc["issuer"]["id"].endswith("/units/CERT-S")
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["type"] == ["Achievement"]
    assert subject["achievement"]["achievementType"] == "CertificateOfCompletion"
    assert subject["achievement"]["name"] == cert.course_title_vi
    # The name is provable from the hash: sha256 of the NFC name followed by the salt.
    (identity,) = subject["identifier"]
    assert identity["type"] == "IdentityObject" and identity["hashed"] is True
    expected = hashlib.sha256((NAME + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert "name" not in subject
    proof = doc["proof"]
    assert (proof["type"], proof["cryptosuite"], proof["proofPurpose"]) == (
        "DataIntegrityProof", "eddsa-jcs-2022", "assertionMethod")
    kid = _published_keys(client).keys[0].kid
    assert proof["verificationMethod"].endswith(f"/.well-known/jwks.json#{kid}")
    assert proof["proofValue"].startswith("z") and len(from_base58btc(proof["proofValue"])) == 64
    # The API gives the same document.
    api = client.get(f"/api/v1/certificates/{cert.code}/credential")
    assert api.status_code == 200
    assert api.get_json() == doc


def test_salt_is_per_credential_and_stable(app, learner_cert, complete):
    _user, cert = learner_cert
    _other_user, _enrollment, other = complete(NAME)
    first = credential(cert)["credentialSubject"]["identifier"][0]
    again = credential(cert)["credentialSubject"]["identifier"][0]
    second = credential(other)["credentialSubject"]["identifier"][0]
    assert first == again
    assert first["salt"] != second["salt"]
    assert first["identityHash"] != second["identityHash"]


@pytest.mark.parametrize("change", [
    lambda d: d["credentialSubject"]["identifier"][0].update(
        identityHash="sha256$" + "0" * 64),
    lambda d: d["credentialSubject"]["identifier"][0].update(salt="another"),
    lambda d: d["credentialSubject"]["achievement"].update(name="Một khoá học khác"),
    lambda d: d.update(validFrom="2020-01-01T00:00:00Z"),
    lambda d: d["issuer"].update(name="Trường giả"),
    lambda d: d["proof"].update(created="2020-01-01T00:00:00Z"),
    lambda d: d["proof"].update(proofPurpose="authentication"),
    lambda d: d["proof"].update(proofValue=base58btc(b"\1" * 64)),
    lambda d: d.update(extra="added"),
    lambda d: d.pop("proof"),
], ids=["name-hash", "salt", "achievement-name", "validFrom", "issuer", "created", "purpose",
        "proofValue", "added-field", "no-proof"])
def test_any_change_breaks_verification(client, learner_cert, change):
    _user, cert = learner_cert
    doc = credential(cert)
    keys = _published_keys(client)
    assert verify_credential(doc, keys)
    tampered = copy.deepcopy(doc)
    change(tampered)
    assert not verify_credential(tampered, keys)


def test_another_key_fails(client, learner_cert):
    _user, cert = learner_cert
    doc = credential(cert)
    kid = _published_keys(client).keys[0].kid
    impostor = OKPKey.generate_key("Ed25519", {"kid": kid, "alg": ALGORITHM})
    assert not verify_credential(doc, KeySet([impostor]))
    assert not verify_credential(doc, KeySet([OKPKey.generate_key("Ed25519")]))  # unknown kid


def test_document_is_byte_identical_on_every_download(client, learner_cert):
    user, cert = learner_cert
    login(client, user)
    first, second = _download(client, cert), _download(client, cert)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data


def test_no_personal_id_or_birth_date_in_it(client, learner_cert):
    user, cert = learner_cert
    login(client, user)
    text = _download(client, cert).data.decode()
    assert cert.birth_on == BIRTH  # the certificate does hold it: the credential must not
    for secret in (PERSONAL_ID, PERSONAL_ID[-6:], user.personal_id_masked,
                   user.personal_id_hash, "2012-09-05", "05/09/2012", "5/9/2012",
                   "05-09-2012", "20120905", "05.09.2012"):
        assert secret not in text, secret


@pytest.mark.parametrize("url", ["/certificates/{ref}/credential.json",
                                 "/api/v1/certificates/{ref}/credential"])
def test_only_the_learner_and_admins_in_scope_get_it(client, make, school, learner_cert, url):
    _user, cert = learner_cert
    for ref in (cert.serial, cert.code):
        assert client.get(url.format(ref=ref)).status_code == 404  # anonymous
    login(client, make.person(Role.LEARNER, school[1], name="Lò Văn Pả"))
    for ref in (cert.serial, cert.code):
        assert client.get(url.format(ref=ref)).status_code == 404  # a classmate
    other_school = make.unit("school", "00691", code="CERT-T")
    login(client, make.person(Role.UNIT_ADMIN, other_school))
    assert client.get(url.format(ref=cert.serial)).status_code == 404
    login(client, make.person(Role.UNIT_ADMIN, school[0]))
    assert client.get(url.format(ref=cert.serial)).status_code == 200


@pytest.mark.parametrize("url", ["/certificates/{ref}/credential.json",
                                 "/api/v1/certificates/{ref}/credential"])
def test_revoked_certificate_is_409(client, make, school, learner_cert, url):
    user, cert = learner_cert
    service.revoke(cert, "issued by mistake", make.person(Role.UNIT_ADMIN, school[0]))
    login(client, user)
    response = client.get(url.format(ref=cert.serial))
    assert response.status_code == 409
    if url.startswith("/api/"):
        assert response.get_json()["code"] == "invalid_state"


def test_my_certificates_page_links_the_credential(client, learner_cert):
    user, cert = learner_cert
    login(client, user)
    page = client.get("/certificates").data.decode()
    assert f"/certificates/{cert.serial}/credential.json" in page


def test_jcs_orders_keys_by_utf16_and_escapes_like_ecmascript():
    # RFC 8785 3.2.3's sorting example.
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    assert canonical(dict.fromkeys(keys, 0)).decode() == (
        '{"\\r":0,"1":0,"\u0080":0,"\u00f6":0,"\u20ac":0,"\U0001f600":0,"\ufb33":0}')
    assert canonical({"b": [True, None, -5, "\u001f\"\\/\n"], "a": {}}) == \
        b'{"a":{},"b":[true,null,-5,"\\u001f\\"\\\\/\\n"]}'
    for bad in (1.5, 2**53, {1: "x"}, "\ud800"):
        with pytest.raises((TypeError, ValueError)):
            canonical(bad)


def test_base58btc_round_trip():
    for data in (b"", b"\0\0\1", bytes(range(64)), b"\xff" * 64):
        assert from_base58btc(base58btc(data)) == data
    assert base58btc(b"Hello World!") == "z2NEpo7TZRRrLZSi2U"
