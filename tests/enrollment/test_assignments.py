"""Assignments: an officer or unit admin assigns required courses with dates; learners with an
active linked roster entry of the right audience see them, are enrolled on opening them, and
see their state. Scope: out of one's subtree is 404."""

from __future__ import annotations

import copy
import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from courses.service import import_package
from enrollment.assignments import queries, service
from enrollment.models import Enrollment
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.db import utcnow
from lms.errors import NotFound
from lms.people.models import Role
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import COURSE, write_package
from tests.support.factories import csrf_headers, login

_serial = itertools.count(1)
TODAY = queries.today_local()
START, DUE = TODAY - timedelta(days=10), TODAY + timedelta(days=60)


def _course(tmp_path, code, audience="students"):
    spec = {**copy.deepcopy(COURSE), "code": code, "audience": audience}
    return import_package(write_package(tmp_path / code, course=spec))[0]


@pytest.fixture
def courses(db, tmp_path):
    return {code: _course(tmp_path, code) for code in ("TEST-ATGT", "TEST-ANM")} | {
        "TEST-CCVC": _course(tmp_path, "TEST-CCVC", "public_servants")}


def entry(db, unit, user, status=EntryStatus.ACTIVE):
    n = next(_serial)
    row = RosterEntry(unit_id=unit.id, roster_unit_id=unit.id, personal_id_hash=f"h{n:063d}",
                      personal_id_masked="0123****4567", full_name="Sùng Thị Mỷ",
                      birth_on=date(2012, 3, 4), status=status,
                      user_id=user.id if user else None)
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def world(make, courses):
    """Province 08 (Tuyên Quang): a school with a class, an agency with a department."""
    province = find_unit_by_code("08")
    school = make.unit("school", "00691", code="ASG-S")
    klass = make.unit("class", school, code="ASG-S-6A")
    agency = make.unit("agency", "08", code="ASG-AG")
    dept = make.unit("department", agency, code="ASG-AG-D1")
    return {"province": province, "school": school, "class": klass, "agency": agency,
            "dept": dept, "officer": make.person(Role.OFFICER, province, name="Hà Văn Cán"),
            "student": make.person(Role.LEARNER, klass, name="Sùng Thị Mỷ"),
            "servant": make.person(Role.LEARNER, dept, name="Lê Văn Công")}


def signed_in(client, user, level=2):
    login(client, user, level=level)
    headers = csrf_headers(client)

    class Api:
        def get(self, url):
            return client.get(url)

        def post(self, url, json):
            return client.post(url, json=json, headers=headers)

        def delete(self, url):
            return client.delete(url, headers=headers)

    return Api()


def body(unit_code="08", codes=("TEST-ATGT", "TEST-ANM"), audience="students",
         start_on=START, due_on=DUE):
    return {"unit_code": unit_code, "course_codes": list(codes), "audience": audience,
            "start_on": start_on.isoformat(), "due_on": due_on.isoformat()}


def states(client, user):
    response = signed_in(client, user, level=1).get("/api/v1/me/assignments")
    assert response.status_code == 200
    return {i["course_code"]: i["state"] for i in response.get_json()["items"]}


def test_officer_assigns_and_student_sees_is_enrolled_and_completes(client, db, world):
    entry(db, world["class"], world["student"])
    officer = signed_in(client, world["officer"])
    created = officer.post("/api/v1/assignments", body())
    assert created.status_code == 201, created.get_json()
    assert [i["course_code"] for i in created.get_json()["items"]] == ["TEST-ATGT", "TEST-ANM"]
    views = queries.assignments_for_learner(world["student"])
    assert {v["course_code"]: v["state"] for v in views} == {
        "TEST-ATGT": "not_started", "TEST-ANM": "not_started"}
    assert views[0]["course_title"] == "Khóa học thử" and views[0]["due_on"] == DUE
    assert states(client, world["student"]) == {"TEST-ATGT": "in_progress",
                                                 "TEST-ANM": "in_progress"}
    assert len(db.execute(select(Enrollment).where(
        Enrollment.user_id == world["student"].id)).all()) == 2
    enrolled = db.execute(select(Enrollment).where(
        Enrollment.user_id == world["student"].id)).scalars().first()
    enrolled.completed_at = utcnow()
    db.flush()
    assert sorted(states(client, world["student"]).values()) == ["completed", "in_progress"]
    page = client.get("/learn/assignments").get_data(as_text=True)
    assert "/learn/TEST-ATGT" in page and "Completed" in page.replace("Đã hoàn thành",
                                                                       "Completed")


def test_past_due_is_overdue(client, db, world):
    entry(db, world["class"], world["student"])
    service.create_assignment(world["officer"], "ASG-S", ["TEST-ATGT"], "students",
                              TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    assert states(client, world["student"]) == {"TEST-ATGT": "overdue"}
    # opening the list enrolled them even though the course was overdue
    assert db.execute(select(Enrollment).where(
        Enrollment.user_id == world["student"].id)).first() is not None


@pytest.mark.parametrize("status", [EntryStatus.EXEMPT, EntryStatus.LEFT])
def test_exempt_or_left_entry_gives_nothing(client, db, world, status):
    entry(db, world["class"], world["student"], status)
    service.create_assignment(world["officer"], "08", ["TEST-ATGT"], "students", START, DUE)
    assert states(client, world["student"]) == {}


def test_public_servant_does_not_get_a_students_assignment(client, db, world):
    entry(db, world["dept"], world["servant"])
    service.create_assignment(world["officer"], "08", ["TEST-ATGT"], "students", START, DUE)
    service.create_assignment(world["officer"], "08", ["TEST-CCVC"], "public_servants",
                              START, DUE)
    assert states(client, world["servant"]) == {"TEST-CCVC": "in_progress"}


def test_unit_admin_of_one_school_cannot_reach_another(client, make, world):
    school_b = make.unit("school", "00691", code="ASG-B")
    admin_a = make.person(Role.UNIT_ADMIN, world["school"])
    service.create_assignment(world["officer"], "ASG-B", ["TEST-ATGT"], "students", START, DUE)
    with pytest.raises(NotFound):
        service.create_assignment(admin_a, "ASG-B", ["TEST-ANM"], "students", START, DUE)
    api = signed_in(client, admin_a)
    assert api.post("/api/v1/assignments", body("ASG-B")).status_code == 404
    assert api.get("/api/v1/units/ASG-B/assignments").status_code == 404
    assert client.get("/units/ASG-B/assignments").status_code == 404
    own = api.post("/api/v1/assignments", body("ASG-S", codes=["TEST-ANM"]))
    assert own.status_code == 201
    listed = api.get("/api/v1/units/ASG-S/assignments").get_json()
    assert [i["course_code"] for i in listed["items"]] == ["TEST-ANM"]
    assert listed["meta"]["total"] == 1
    assert school_b.id  # B's assignment exists, and is nowhere in A's list


def test_validation_and_conflicts(client, world):
    api = signed_in(client, world["officer"])
    late = api.post("/api/v1/assignments", body(start_on=DUE, due_on=START))
    assert late.status_code == 422 and "due_on" in late.get_json()["errors"]
    unknown = api.post("/api/v1/assignments", body(codes=["NOPE"]))
    assert unknown.status_code == 422 and "course_codes" in unknown.get_json()["errors"]
    misfit = api.post("/api/v1/assignments", body("ASG-AG"))
    assert misfit.status_code == 422 and "audience" in misfit.get_json()["errors"]
    extra = api.post("/api/v1/assignments", {**body(), "target": 100})
    assert extra.status_code == 422
    assert api.post("/api/v1/assignments", body()).status_code == 201
    duplicate = api.post("/api/v1/assignments", body(codes=["TEST-ANM"]))
    assert duplicate.status_code == 409
    assert duplicate.get_json()["code"] == "conflict"


def test_withdrawn_assignment_leaves_the_learner_list(client, db, world):
    entry(db, world["class"], world["student"])
    rows = service.create_assignment(world["officer"], "08", ["TEST-ATGT", "TEST-ANM"],
                                     "students", START, DUE)
    api = signed_in(client, world["officer"])
    assert api.delete(f"/api/v1/assignments/{rows[0].id}").status_code == 204
    assert api.delete(f"/api/v1/assignments/{rows[0].id}").status_code == 204  # idempotent
    listed = api.get("/api/v1/units/ASG-S-6A/assignments").get_json()["items"]
    assert [(i["course_code"], i["inherited"]) for i in listed] == [("TEST-ANM", True)]
    assert states(client, world["student"]) == {"TEST-ANM": "in_progress"}


def test_people_added_later_inherit(client, db, make, world):
    service.create_assignment(world["officer"], "08", ["TEST-ATGT"], "students", START, DUE)
    newcomer = make.person(Role.LEARNER, world["class"], name="Vàng A Dính")
    assert states(client, newcomer) == {}
    entry(db, world["class"], newcomer)
    assert states(client, newcomer) == {"TEST-ATGT": "in_progress"}
    unlinked = entry(db, world["class"], None)
    assert unlinked.user_id is None


def test_pages(client, db, world):
    entry(db, world["class"], world["student"])
    login(client, world["officer"])
    page = client.get("/units/ASG-S/assignments").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'for="due_on"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    saved = client.post("/units/ASG-S/assignments", data={
        "csrf_token": token, "course_codes": ["TEST-ATGT"], "audience": "students",
        "start_on": START.isoformat(), "due_on": DUE.isoformat()})
    assert saved.status_code == 303
    assert "TEST-ATGT" in client.get("/units/ASG-S/assignments").get_data(as_text=True)
    login(client, world["student"], level=1)
    assert client.get("/units/ASG-S/assignments").status_code == 404
    mine = client.get("/learn/assignments")
    assert mine.status_code == 200 and "/learn/TEST-ATGT" in mine.get_data(as_text=True)
