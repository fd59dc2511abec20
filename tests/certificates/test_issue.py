"""Issue exactly once, frozen at issue; readable serials, unguessable codes; the database
refuses a second certificate for the same completion."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from certificates import service
from certificates.models import Certificate, CertificateState, parse_serial
from enrollment import service as enrollment_service


def test_completion_issues_one_frozen_certificate(db, complete, school):
    user, enrollment, cert = complete("Lò Thị Mỷ")
    assert re.fullmatch(r"BDHVS-20\d\d-\d{7}", cert.serial)
    assert parse_serial(cert.serial)[1] == cert.id
    assert re.fullmatch(r"[a-z2-7]{32}", cert.code)  # 160 bits, base32
    assert (cert.full_name, cert.course_code, cert.course_version, cert.unit_name) == (
        "Lò Thị Mỷ", "TEST-ATGT", 1, "Trường Tiểu học Kim Đồng")
    assert cert.unit_id == school[0].id and cert.state is CertificateState.VALID
    assert cert.completed_at == enrollment.completed_at
    # later changes to the account, the unit or the course do not touch the certificate
    user.full_name = "Lò Thị Mỹ"
    school[0].name = "Trường khác"
    db.flush()
    db.refresh(cert)
    assert cert.full_name == "Lò Thị Mỷ" and cert.unit_name == "Trường Tiểu học Kim Đồng"
    # completing again issues nothing
    assert not enrollment_service._complete(enrollment)
    assert db.execute(select(func.count()).select_from(Certificate).where(
        Certificate.enrollment_id == enrollment.id)).scalar_one() == 1


def test_database_refuses_a_second_certificate_for_a_completion(db, complete):
    _user, enrollment, _cert = complete()
    with pytest.raises(IntegrityError), db.begin_nested():
        service.issue(enrollment)


def test_codes_differ_and_owe_nothing_to_the_learner(db, complete, make, school):
    codes = {complete(f"Học Sinh {n}")[2].code for n in range(4)}
    assert len(codes) == 4
    assert len({service.new_code() for _ in range(1000)}) == 1000


def test_issuing_unit_is_the_school_above_the_class(db, complete, school):
    _user, _e, cert = complete()
    assert cert.unit_path == school[0].path
