"""A loaded test course and a signed-in student of a class."""

from __future__ import annotations

import pytest

from courses.service import import_package
from lms.people.models import Role
from tests.courses.package_factory import write_package
from tests.support.factories import csrf_headers, login


@pytest.fixture
def course(db, tmp_path):
    loaded, _ = import_package(write_package(tmp_path / "pkg"))
    return loaded


@pytest.fixture
def student(make):
    school = make.unit("school", "00691", code="ENR-S")
    return make.person(Role.LEARNER, make.unit("class", school, code="ENR-S-6A"),
                       name="Sùng Thị Mỷ")


@pytest.fixture
def api(client, student, course):
    """A client signed in as the student (level 1), with the CSRF header for writes."""
    login(client, student, level=1)
    headers = csrf_headers(client)

    class Api:
        def get(self, url):
            return client.get(url)

        def post(self, url, json=None):
            return client.post(url, json=json or {}, headers=headers)

        def put(self, url, json=None):
            return client.put(url, json=json or {}, headers=headers)

    return Api()
