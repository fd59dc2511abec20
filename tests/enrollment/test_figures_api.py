"""The figures and people API against hand-computed numbers: the commune's figures and its
children's (which sum to it), the people list with masked IDs only and its state filter, and
404 for an officer of another province and a school admin above their school."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from courses.models import Audience
from courses.service import import_package
from enrollment import service as enrollment_service
from enrollment.assignments.service import create_assignment
from enrollment.reports import api as reports_api
from enrollment.reports import views as reports_views
from enrollment.rosters import service as rosters
from enrollment.rosters.importer import import_roster
from enrollment.rosters.models import ExemptReason, RosterEntry
from lms.demo.people import synthetic_personal_id
from lms.people.models import Role
from lms.pii import hash_personal_id
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import write_package
from tests.support.factories import login

DUE = date(2026, 5, 31)
BEFORE_DUE, AFTER_DUE = date(2026, 5, 20), date(2026, 6, 2)
TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
CLASSES = {"FIG-S1-A": (1, 2, 3, 4), "FIG-S1-B": (5, 6), "FIG-S2-C": (7, 8, 9, 10)}
COMPLETED, IN_PROGRESS, EXEMPT = (1, 5, 6, 7), (2,), (4,)
ACCOUNTS = (1, 2, 5, 6, 7, 8)
# Completion instants (UTC): p7 takes longer than 20% of the course's 30 minutes and finishes
# at 00:30 on 11 May in Vietnam (17:30 UTC on 10 May); the others are fast, on 10 May.
FAST_START = datetime(2026, 5, 10, 1, 0, tzinfo=UTC)
SLOW_START = datetime(2026, 5, 10, 16, 0, tzinfo=UTC)


def roster_csv(people):
    lines = ["Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"]
    lines += [f"{name};{pid};05/09/2012;{klass}" for name, pid, klass in people]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def on_day(monkeypatch, day: date) -> None:
    """The API and the page see `day` as today (Vietnamese calendar)."""
    monkeypatch.setattr(reports_api, "today_local", lambda: day)
    monkeypatch.setattr(reports_views, "today_local", lambda: day)


@pytest.fixture
def scenario(db, make, tmp_path):
    """Commune 00691: school FIG-S1 (classes A: p1–p4, B: p5–p6) and school FIG-S2 (class C:
    p7–p10); TEST-ATGT assigned to the commune's students, due 31 May. Completed: p1, p5, p6,
    p7; in progress: p2; exempt: p4; the rest not started (p8 has an account)."""
    import_package(write_package(tmp_path / "v1"))
    s1 = make.unit("school", "00691", code="FIG-S1", name="Trường Một")
    s2 = make.unit("school", "00691", code="FIG-S2", name="Trường Hai")
    for school, klass in ((s1, "A"), (s1, "B"), (s2, "C")):
        make.unit("class", school, code=f"{school.code}-{klass}", name=f"Lớp {klass}")
    rng = random.Random(5)
    ids = {n: synthetic_personal_id(rng, "008", date(2012, 9, 5), n % 2 == 0, 800 + n)
           for n in range(1, 11)}
    names = {n: f"Học Sinh {n:02d}" for n in ids}
    officer = make.person(Role.OFFICER, find_unit_by_code("00691"))
    create_assignment(officer, "00691", ["TEST-ATGT"], Audience.STUDENTS, date(2026, 5, 1),
                      DUE)
    for school in ("FIG-S1", "FIG-S2"):
        rows = [(names[n], ids[n], klass) for klass, people in CLASSES.items()
                if klass.startswith(school + "-") for n in people]
        import_roster(None, school, f"{school}.csv", roster_csv(rows), dry_run=False)
    users = {}
    for n in ACCOUNTS:
        klass = next(k for k, people in CLASSES.items() if n in people)
        users[n] = make.user(name=names[n], personal_id=ids[n])
        make.grant(users[n], Role.LEARNER, find_unit_by_code(klass))
        rosters.link_user(users[n], hash_personal_id(ids[n]))
    for n in COMPLETED:
        enrollment = enrollment_service.enroll(users[n], "TEST-ATGT")
        enrollment_service._complete(enrollment)
        start = SLOW_START if n == 7 else FAST_START + timedelta(minutes=n)
        enrollment.started_at = start
        enrollment.completed_at = start + (timedelta(minutes=90) if n == 7
                                           else timedelta(minutes=2))
    for n in IN_PROGRESS:
        enrollment_service.enroll(users[n], "TEST-ATGT")
    db.flush()
    for n in EXEMPT:
        entry = db.execute(select(RosterEntry).where(
            RosterEntry.personal_id_hash == hash_personal_id(ids[n]))).scalar_one()
        rosters.exempt(make.person(Role.UNIT_ADMIN, s1), entry.id, ExemptReason.LONG_ILLNESS,
                       None)
    return {"s1": s1, "s2": s2, "ids": ids, "names": names, "officer": officer,
            "users": users}


def test_figures_hand_computed(client, monkeypatch, scenario):
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    response = client.get("/api/v1/units/00691/figures")
    assert response.status_code == 200, response.data[:300]
    body = response.get_json()
    assert body["unit"]["code"] == "00691" and body["unit"]["kind"] == "commune"
    assert body["today"] == "2026-05-20" and body["courses"] == ["TEST-ATGT"]
    assert body["figures"] == {"expected": 9, "completed": 4, "in_progress": 1,
                               "not_started": 4, "overdue": 0, "exempt": 1, "rate": "44.4",
                               "gap": 5}
    children = {c["code"]: c for c in body["children"]}
    assert set(children) == {"FIG-S1", "FIG-S2"}
    assert children["FIG-S1"]["figures"] == {"expected": 5, "completed": 3, "in_progress": 1,
                                             "not_started": 1, "overdue": 0, "exempt": 1,
                                             "rate": "60.0", "gap": 2}
    assert children["FIG-S2"]["figures"] == {"expected": 4, "completed": 1, "in_progress": 0,
                                             "not_started": 3, "overdue": 0, "exempt": 0,
                                             "rate": "25.0", "gap": 3}
    assert children["FIG-S1"]["name"] == "Trường Một" and children["FIG-S1"]["kind"] == "school"
    for key in ("expected", "completed", "in_progress", "not_started", "overdue", "exempt",
                "gap"):
        assert sum(c["figures"][key] for c in body["children"]) == body["figures"][key]


def test_figures_after_the_due_date_and_by_course(client, monkeypatch, scenario):
    on_day(monkeypatch, AFTER_DUE)
    login(client, scenario["officer"])
    body = client.get("/api/v1/units/FIG-S1/figures?course=TEST-ATGT").get_json()
    assert body["figures"]["overdue"] == 2 and body["figures"]["gap"] == 2
    assert {c["code"]: c["figures"]["overdue"] for c in body["children"]} == {
        "FIG-S1-A": 2, "FIG-S1-B": 0}
    other = client.get("/api/v1/units/FIG-S1/figures?course=NOPE").get_json()
    assert other["figures"]["expected"] == 0 and other["figures"]["rate"] is None
    assert client.get("/api/v1/units/FIG-S1/figures?lang=en").status_code == 422  # strict


def test_people_masked_and_filtered(client, monkeypatch, scenario):
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    names = scenario["names"]
    response = client.get("/api/v1/units/00691/people")
    assert response.status_code == 200
    body = response.get_json()
    assert TWELVE_DIGITS.search(response.get_data(as_text=True)) is None
    assert body["meta"] == {"page": 1, "per_page": 200, "total": 5}
    # not completed by default, ordered by class then name
    assert [p["full_name"] for p in body["items"]] == [names[n] for n in (2, 3, 8, 9, 10)]
    first = body["items"][0]
    pid = scenario["ids"][2]
    assert first["personal_id_masked"] == f"{pid[:4]}****{pid[-4:]}"
    assert first["unit_code"] == "FIG-S1-A" and first["unit_name"] == "Lớp A"
    assert first["status"] == "active"
    assert first["courses"] == [{"course_code": "TEST-ATGT", "due_on": "2026-05-31",
                                 "state": "in_progress"}]
    assert body["items"][1]["courses"][0]["state"] == "not_started"

    def listed(query):
        found = client.get(f"/api/v1/units/00691/people?{query}").get_json()
        return [(p["full_name"], p["courses"][0]["state"]) for p in found["items"]]

    assert listed("state=completed") == [(names[n], "completed") for n in (1, 5, 6, 7)]
    assert listed("state=exempt") == [(names[4], "exempt")]
    assert len(listed("state=all")) == 10
    assert listed("state=all&course=NOPE") == []
    page = client.get("/api/v1/units/00691/people?state=all&per_page=3&page=2").get_json()
    assert [p["full_name"] for p in page["items"]] == [names[n] for n in (4, 5, 6)]
    assert page["meta"]["total"] == 10
    assert client.get("/api/v1/units/00691/people?state=late").status_code == 422
    on_day(monkeypatch, AFTER_DUE)
    assert {s for _n, s in listed("state=not_completed")} == {"overdue"}
    assert len(listed("state=not_completed")) == 5  # p2, p3, p8, p9, p10


def test_people_leave_out_those_who_left(client, monkeypatch, scenario, db):
    on_day(monkeypatch, BEFORE_DUE)
    ids, names = scenario["ids"], scenario["names"]
    import_roster(None, "FIG-S2", "s2.csv", roster_csv(
        [(names[n], ids[n], "FIG-S2-C") for n in (7, 8, 9)]), dry_run=False)
    login(client, scenario["officer"])
    found = client.get("/api/v1/units/FIG-S2/people?state=all").get_json()
    assert [p["full_name"] for p in found["items"]] == [names[n] for n in (7, 8, 9)]


def test_out_of_scope_is_404(client, make, monkeypatch, scenario):
    on_day(monkeypatch, BEFORE_DUE)
    login(client, make.person(Role.OFFICER, find_unit_by_code("01")))  # Hà Nội
    for code in ("08", "00691", "FIG-S1", "FIG-S2-C"):
        for url in (f"/api/v1/units/{code}/figures", f"/api/v1/units/{code}/people"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response.get_json()["code"] == "not_found"
    assert client.get("/api/v1/units/01/figures").status_code == 200


def test_school_admin_sees_own_school_only(client, make, monkeypatch, scenario):
    on_day(monkeypatch, BEFORE_DUE)
    login(client, make.person(Role.UNIT_ADMIN, scenario["s1"]))
    assert client.get("/api/v1/units/FIG-S1/figures").status_code == 200
    people = client.get("/api/v1/units/FIG-S1/people?state=all").get_json()
    assert people["meta"]["total"] == 6
    for url in ("/api/v1/units/00691/figures", "/api/v1/units/00691/people",
                "/api/v1/units/FIG-S2/figures", "/api/v1/units/FIG-S2/people"):
        assert client.get(url).status_code == 404, url


def test_learner_cannot_list_people(client, monkeypatch, scenario):
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["users"][1], level=1)
    for url in ("/api/v1/units/FIG-S1-A/people", "/api/v1/units/FIG-S1-A/figures"):
        assert client.get(url).status_code == 404, url
