"""A school with a class, an imported course, and a helper that completes it for a learner
(which issues the certificate through the course_completed signal)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from certificates.models import Certificate
from courses.service import import_package
from enrollment import service as enrollment_service
from lms.people.models import Role
from tests.courses.package_factory import write_package

COURSE_CODE = "TEST-ATGT"


@pytest.fixture
def school(db, make, tmp_path):
    import_package(write_package(tmp_path / "course"))
    school = make.unit("school", "00691", code="CERT-S", name="Trường Tiểu học Kim Đồng")
    klass = make.unit("class", school, code="CERT-S-1", name="Lớp 5A")
    return school, klass


@pytest.fixture
def complete(db, make, school):
    def complete(name: str = "Nguyễn Thị Ngọc Ánh", birth_on: date | None = date(2012, 9, 5),
                 klass=None):
        user = make.user(name, birth_on=birth_on)
        user.full_name = name  # exactly as given (a test may pass NFD)
        make.grant(user, Role.LEARNER, klass or school[1])
        enrollment = enrollment_service.enroll(user, COURSE_CODE)
        assert enrollment_service._complete(enrollment)
        cert = db.execute(select(Certificate).where(
            Certificate.enrollment_id == enrollment.id)).scalar_one()
        return user, enrollment, cert
    return complete
