"""School-issued accounts: a unit admin prints one-time codes for a class; the student signs
in, must choose a password; a later VNeID sign-in with the same ID keeps the same account."""

from __future__ import annotations

import re
from datetime import date

import pytest

from lms.auth import local
from lms.auth.claims import Identity
from lms.auth.models import LocalAccount
from lms.auth.service import sign_in
from lms.errors import ValidationFailed
from lms.people.models import Role
from tests.support.factories import login


def csrf(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


@pytest.fixture
def klass(make):
    school = make.unit("school", "00691", code="LOC-S")
    return make.unit("class", school, code="LOC-S-6A"), make.person(Role.UNIT_ADMIN, school)


def create_sheet(client, admin, text):
    login(client, admin)
    token = csrf(client, "/units/LOC-S-6A/accounts")
    return client.post("/units/LOC-S-6A/accounts", data={"csrf_token": token, "students": text})


def sheet_rows(response):
    cells = re.findall(r'<td class="code">([^<]+)</td><td class="code">([^<]+)</td>',
                       response.text)
    return [(u.strip(), c.strip()) for u, c in cells]


def test_admin_prints_codes_and_student_sets_a_password(client, klass, db):
    _, admin = klass
    response = create_sheet(client, admin, "Giàng A Páo; 03/04/2013\nLò Thị Sình; 12/09/2012")
    assert response.status_code == 200
    assert "Giàng A Páo" in response.text and response.headers["Cache-Control"] == "no-store"
    (username, code), _ = sheet_rows(response)
    stored = db.query(LocalAccount).filter_by(username=username).one()
    assert code not in stored.secret_hash and stored.must_change

    student = client.application.test_client()
    token = csrf(student, "/auth/local")
    first = student.post("/auth/local", data={"csrf_token": token, "username": username,
                                              "code": code})
    assert first.status_code == 303 and first.location.endswith("/auth/local/password")
    assert student.get("/api/v1/me").status_code == 401  # not signed in before the change
    token = csrf(student, "/auth/local/password")
    weak = student.post("/auth/local/password", data={
        "csrf_token": token, "password": "1111111", "password_again": "1111111"})
    assert weak.status_code == 422
    done = student.post("/auth/local/password", data={
        "csrf_token": token, "password": "núi-rừng-2013", "password_again": "núi-rừng-2013"})
    assert done.status_code == 303
    me = student.get("/api/v1/me").get_json()
    assert me["full_name"] == "Giàng A Páo" and me["level"] == 1
    assert [g["unit_code"] for g in me["grants"]] == ["LOC-S-6A"]

    again = client.application.test_client()
    token = csrf(again, "/auth/local")
    reused = again.post("/auth/local", data={"csrf_token": token, "username": username,
                                             "code": code})
    assert reused.status_code == 401  # the one-time code is gone
    ok = again.post("/auth/local", data={"csrf_token": token, "username": username,
                                         "code": "núi-rừng-2013"})
    assert ok.status_code == 303 and again.get("/api/v1/me").status_code == 200


def test_bad_lines_create_nothing(client, klass, db):
    _, admin = klass
    response = create_sheet(client, admin, "Lò Văn Púa; 2013-04-03\n; 01/01/2012\n"
                                           "Hà Thị Nguyệt; 01/05/2012; 008305001234")
    assert response.status_code == 422
    assert "Line 1" in response.text or "Dòng 1" in response.text
    assert db.query(LocalAccount).count() == 0


def test_lockout_after_repeated_failures(klass, client):
    _, admin = klass
    (username, code), = sheet_rows(create_sheet(client, admin, "Vàng Thị Mỷ; 01/02/2013"))
    for _ in range(local.MAX_FAILURES):
        assert local.authenticate(username, "WRONG-CODE") is None
    assert local.authenticate(username, code) is None  # locked, even with the right code


def test_another_schools_admin_cannot_create_accounts(client, klass, make):
    outsider = make.person(Role.UNIT_ADMIN, make.unit("school", "00694"))
    login(client, outsider)
    assert client.get("/units/LOC-S-6A/accounts").status_code == 404


def test_vneid_sign_in_takes_over_the_school_account(klass, db, make):
    _, admin = klass
    [issued] = local.create_class_accounts(admin, "LOC-S-6A", [
        local.Student("Hà Thị Nguyệt", date(2012, 5, 1), "008312001234")])
    account = db.query(LocalAccount).filter_by(username=issued.username).one()
    user = sign_in(Identity(issuer="https://vneid.test", subject="vneid-sub-1",
                            full_name="Hà Thị Nguyệt", birth_on=date(2012, 5, 1),
                            personal_id="008312001234", level=2))
    assert user.id == account.user_id  # same account, same grants and progress
    assert (user.issuer, user.subject) == ("https://vneid.test", "vneid-sub-1")
    assert account.disabled_at is not None
    assert local.authenticate(issued.username, issued.one_time_code) is None


def test_personal_id_already_taken_is_refused(klass, make):
    _, admin = klass
    make.user("Người khác", personal_id="008312001234")
    with pytest.raises(ValidationFailed):
        local.create_class_accounts(admin, "LOC-S-6A", [
            local.Student("Hà Thị Nguyệt", date(2012, 5, 1), "008312001234")])


def test_lockout_holds_over_http(klass, client):
    _, admin = klass
    (username, code), = sheet_rows(create_sheet(client, admin, "Hà Thị Mai; 01/02/2013"))
    student = client.application.test_client()
    token = csrf(student, "/auth/local")
    for _ in range(local.MAX_FAILURES):
        wrong = student.post("/auth/local", data={"csrf_token": token, "username": username,
                                                  "code": "WRONG-CODE"})
        assert wrong.status_code == 401
    right = student.post("/auth/local", data={"csrf_token": token, "username": username,
                                              "code": code})
    assert right.status_code == 401  # locked: the failures were kept despite the 401s
