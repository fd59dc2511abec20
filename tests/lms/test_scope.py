"""Scope is enforced in every route: a school admin sees nothing of another school, an officer
of one province nothing of another, in lists, details and counts alike."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest

from enrollment.assignments.models import Assignment
from enrollment.reports.snapshot_models import ReportSnapshot
from enrollment.rosters.models import LinkConflict, RosterEntry
from lms.db import utcnow
from lms.jobs.models import Job, JobStatus
from lms.people.models import Role
from lms.units.queries import find_unit_by_code
from tests.support.factories import csrf_headers, login

# Every rule with a path parameter must appear here, so a new route cannot skip the check.
OBJECT_ROUTES = {
    ("GET", "/units/<code>"): "code",
    ("POST", "/units/<code>/children"): "code",
    ("POST", "/units/<code>/import"): "code",
    ("GET", "/units/<code>/accounts"): "code",
    ("POST", "/units/<code>/accounts"): "code",
    ("GET", "/api/v1/units/<code>"): "code",
    ("GET", "/api/v1/users/<int:user_id>"): "user",
    ("DELETE", "/api/v1/role-grants/<int:grant_id>"): "grant",
    ("GET", "/units/<code>/assignments"): "code",
    ("POST", "/units/<code>/assignments"): "code",
    ("GET", "/api/v1/units/<code>/assignments"): "code",
    ("DELETE", "/api/v1/assignments/<int:assignment_id>"): "assignment",
    ("POST", "/api/v1/units/<code>/roster/import"): "code",
    ("GET", "/api/v1/units/<code>/roster"): "code",
    ("GET", "/api/v1/units/<code>/link-conflicts"): "code",
    ("PUT", "/api/v1/roster-entries/<int:entry_id>/exemption"): "entry",
    ("DELETE", "/api/v1/roster-entries/<int:entry_id>/exemption"): "entry",
    ("POST", "/api/v1/link-conflicts/<int:conflict_id>/resolve"): "conflict",
    ("GET", "/units/<code>/roster"): "code",
    ("POST", "/units/<code>/roster/check"): "code",
    ("GET", "/units/<code>/roster/uploads/<key>"): "code",
    ("GET", "/units/<code>/roster/uploads/<key>/problems.csv"): "code",
    ("POST", "/units/<code>/roster/import"): "code",
    ("POST", "/units/<code>/roster/entries/<int:entry_id>/exemption"): "code",
    ("POST", "/units/<code>/roster/conflicts/<int:conflict_id>"): "code",
    ("GET", "/units/<code>/people.csv"): "code",
    ("GET", "/jobs/<job_id>"): "job",
    ("GET", "/jobs/<job_id>/download"): "job",
    ("GET", "/api/v1/jobs/<job_id>"): "job",
    ("POST", "/api/v1/units/<code>/snapshots"): "code",
    ("GET", "/api/v1/units/<code>/snapshots"): "code",
    ("GET", "/api/v1/units/<code>/submissions"): "code",
    ("GET", "/api/v1/snapshots/<public_id>"): "snapshot",
    ("GET", "/units/<code>/reports"): "code",
    ("POST", "/units/<code>/reports"): "code",
    ("GET", "/snapshots/<public_id>"): "snapshot",
    ("GET", "/snapshots/<public_id>.csv"): "snapshot",
    ("GET", "/snapshots/<public_id>.xlsx"): "snapshot",
    ("GET", "/snapshots/<public_id>.pdf"): "snapshot",
    ("GET", "/units/<code>/figures.csv"): "code",
    ("GET", "/units/<code>/figures.xlsx"): "code",
    ("GET", "/api/v1/units/<code>/figures"): "code",
    ("GET", "/api/v1/units/<code>/people"): "code",
    ("GET", "/units/<code>/dashboard"): "code",
    ("GET", "/units/<code>/reminders"): "code",
    ("POST", "/units/<code>/reminders"): "code",
    ("GET", "/api/v1/units/<code>/reminders"): "code",
    ("POST", "/api/v1/units/<code>/reminders"): "code",
    ("GET", "/units/<code>/certificates"): "code",
    ("GET", "/api/v1/units/<code>/certificates"): "code",
    ("GET", "/certificates/<ref>/pdf"): "certificate",
    ("POST", "/certificates/<ref>/revoke"): "certificate",
    ("POST", "/certificates/<ref>/reissue"): "certificate",
    ("GET", "/api/v1/certificates/<ref>"): "certificate",
    ("POST", "/api/v1/certificates/<ref>/revoke"): "certificate",
    ("POST", "/api/v1/certificates/<ref>/reissue"): "certificate",
    ("POST", "/units/<code>/certificates.zip"): "code",
    ("POST", "/api/v1/units/<code>/certificates/zip"): "code",
    ("GET", "/certificates/<ref>/credential.json"): "certificate",
    ("GET", "/api/v1/certificates/<ref>/credential"): "certificate",
    ("GET", "/units/<code>/audit"): "code",
    ("GET", "/units/<code>/audit.csv"): "code",
    ("GET", "/api/v1/units/<code>/audit"): "code",
}
# Bodies that get a request past input validation, so that it is the scope that answers.
JSON_BODIES = {"entry": {"reason": "other"}, "conflict": {},
               "certificate": {"reason": "a valid reason"}}
# A learner's own resources: the course code selects the caller's enrolment (nobody else's can
# be named), attempt ids are checked against the caller in tests/enrollment/test_attempts.py.
LEARNER_ROUTES = {
    ("GET", "/api/v1/courses/<code>"),  # the public catalogue's outline
    ("GET", "/courses/<code>/v<int:version>/assets/images/<path:name>"),  # course images
    ("POST", "/api/v1/courses/<code>/enrollment"),
    ("GET", "/api/v1/courses/<code>/progress"),
    ("GET", "/api/v1/courses/<code>/lessons/<slug>"),
    ("POST", "/api/v1/courses/<code>/lessons/<slug>/read"),
    ("POST", "/api/v1/courses/<code>/attempts"),
    ("GET", "/api/v1/attempts/<int:attempt_id>"),
    ("PUT", "/api/v1/attempts/<int:attempt_id>/answers/<int:position>"),
    ("POST", "/api/v1/attempts/<int:attempt_id>/submit"),
    ("POST", "/learn/<code>/start"),
    ("GET", "/learn/<code>"),
    ("GET", "/learn/<code>/lessons/<slug>"),
    ("POST", "/learn/<code>/lessons/<slug>/read"),
    ("POST", "/learn/<code>/quiz"),
    ("GET", "/learn/attempts/<int:attempt_id>"),  # another learner's: tests/enrollment
    ("POST", "/learn/attempts/<int:attempt_id>/submit"),
    # Public by design, disclosing the minimum: tests/certificates/test_verify.py
    ("GET", "/verify/<code>"),
    ("POST", "/verify/<code>"),
    ("GET", "/api/v1/verify/<code>"),
    ("POST", "/api/v1/verify/<code>"),
}
QUERY_ROUTES = [
    "/api/v1/units?parent={code}",
    "/api/v1/users?unit={code}",
    "/api/v1/role-grants?unit={code}",
]


@pytest.fixture
def two_schools(make):
    commune_a, commune_b = "00070", "00073"  # two wards of Hà Nội
    school_a = make.unit("school", commune_a, code="SCH-A")
    school_b = make.unit("school", commune_b, code="SCH-B")
    class_b = make.unit("class", school_b, code="SCH-B-6A")
    admin_a = make.person(Role.UNIT_ADMIN, school_a)
    learner_b = make.person(Role.LEARNER, class_b, name="Lò Thị Sình")
    grant_b = make.grant(make.user("Giàng A Páo"), Role.LEARNER, class_b)
    entry_b = RosterEntry(unit_id=class_b.id, roster_unit_id=class_b.id,
                          personal_id_hash="b" * 64, personal_id_masked="0083****0001",
                          full_name="Lò Thị Sình", birth_on=date(2012, 3, 4))
    make.session.add(entry_b)
    make.session.flush()
    conflict_b = LinkConflict(unit_id=class_b.id, entry_id=entry_b.id,
                              personal_id_hash="b" * 64, kind="two_accounts")
    make.session.add(conflict_b)
    assignment_b = Assignment(unit_id=school_b.id, course_code="ANY", audience="students",
                              start_on=date(2025, 9, 5), due_on=date(2025, 12, 31))
    make.session.add(assignment_b)
    snapshot_b = ReportSnapshot(public_id="snapshot-of-school-b", unit_id=school_b.id,
                                period="2026-05", version=1, content={}, content_hash="0" * 64)
    make.session.add(snapshot_b)
    job_b = Job(kind="tests.export", requested_by_id=learner_b.id, unit_id=class_b.id,
                status=JobStatus.DONE, finished_at=utcnow(),
                expires_at=utcnow() + timedelta(days=1),
                result={"file": "x" * 32, "filename": "b.csv"})
    make.session.add(job_b)
    make.session.flush()
    certificate_b = _certificate(make, learner_b, school_b)
    return {"certificate_b": certificate_b, "job_b": job_b, "a": school_a, "b": school_b,
            "class_b": class_b, "admin_a": admin_a,
            "learner_b": learner_b, "grant_b": grant_b, "assignment_b": assignment_b,
            "entry_b": entry_b, "conflict_b": conflict_b, "snapshot_b": snapshot_b}


def _certificate(make, learner, school):
    """A real certificate of learner, issued by school (the course imported for it)."""
    import tempfile
    from pathlib import Path

    from courses.service import import_package
    from enrollment import service as enrollment_service
    from tests.courses.package_factory import write_package

    with tempfile.TemporaryDirectory() as tmp:
        import_package(write_package(Path(tmp) / "course"))
    enrollment = enrollment_service.enroll(learner, "TEST-ATGT")
    enrollment_service._complete(enrollment)
    from sqlalchemy import select

    from certificates.models import Certificate
    cert = make.session.execute(select(Certificate).where(
        Certificate.enrollment_id == enrollment.id)).scalar_one()
    assert cert.unit_id == school.id
    return cert


def _rules(app):
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint != "static":
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                rules[(method, rule.rule)] = rule
    return rules


def test_every_parameterised_route_is_in_the_scope_matrix(app):
    assert set(_rules(app)) == set(OBJECT_ROUTES) | LEARNER_ROUTES


@pytest.mark.parametrize(("method", "rule"), sorted(OBJECT_ROUTES))
def test_school_admin_gets_404_for_another_school(client, two_schools, method, rule):
    login(client, two_schools["admin_a"])
    kind = OBJECT_ROUTES[(method, rule)]
    target = {"code": two_schools["b"].code, "user": two_schools["learner_b"].id,
              "grant": two_schools["grant_b"].id, "assignment": two_schools["assignment_b"].id,
              "entry": two_schools["entry_b"].id,
              "conflict": two_schools["conflict_b"].id, "job": two_schools["job_b"].id,
              "snapshot": two_schools["snapshot_b"].public_id,
              "certificate": two_schools["certificate_b"].serial}[kind]
    url = re.sub(r"<(?:[^:>]+:)?key>", "0" * 64,
                 re.sub(r"<(?:[^:>]+:)?(?!key>)[^>]+>", str(target), rule, count=1))
    headers = csrf_headers(client) if method != "GET" else {}
    data = {"csrf_token": headers.get("X-CSRFToken"), "code": "X1", "name": "X", "kind": "class",
            "file": (io.BytesIO(b"a;b\n"), "x.csv")}
    if rule.startswith(("/units", "/api/v1/units")) and method == "POST":
        response = client.open(url, method=method, headers=headers, data=data)
    else:
        response = client.open(url, method=method, headers=headers, json=JSON_BODIES.get(kind))
    assert response.status_code == 404, (method, url, response.data[:200])


@pytest.mark.parametrize("template", QUERY_ROUTES)
def test_school_admin_gets_404_for_another_school_in_queries(client, two_schools, template):
    login(client, two_schools["admin_a"])
    response = client.get(template.format(code=two_schools["b"].code))
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_school_admin_sees_own_school(client, two_schools, make):
    make.unit("class", two_schools["a"], code="SCH-A-6A")
    login(client, two_schools["admin_a"])
    assert client.get("/api/v1/units/SCH-A").status_code == 200
    items = client.get("/api/v1/units?parent=SCH-A").get_json()["items"]
    assert [u["code"] for u in items] == ["SCH-A-6A"]
    assert client.get("/units/SCH-A").status_code == 200


def test_other_schools_are_absent_from_public_lists_and_counts(client, two_schools):
    login(client, two_schools["admin_a"])
    body = client.get("/api/v1/units?parent=00073").get_json()
    assert "SCH-B" not in {u["code"] for u in body["items"]}
    assert body["meta"]["total"] == 0
    schools = client.get("/api/v1/units?kind=school").get_json()
    assert [u["code"] for u in schools["items"]] == ["SCH-A"]
    assert schools["meta"]["total"] == 1


def test_anonymous_sees_only_the_official_tree(client, two_schools):
    assert client.get("/api/v1/units/SCH-A").status_code == 404
    assert client.get("/api/v1/units?kind=school").get_json()["meta"]["total"] == 0
    assert client.get("/api/v1/units/00073").status_code == 200


@pytest.fixture
def two_provinces(make):
    # Hà Nội (01) and Tuyên Quang (08)
    school_p = make.unit("school", "00070", code="SCH-P")
    school_q = make.unit("school", "00691", code="SCH-Q")
    agency_q = make.unit("agency", "08", code="AG-Q")
    officer = make.person(Role.OFFICER, find_unit_by_code("01"))
    people_q = [make.person(Role.LEARNER, school_q) for _ in range(3)]
    make.person(Role.LEARNER, school_p)
    return {"officer": officer, "school_q": school_q, "agency_q": agency_q,
            "people_q": people_q}


def test_officer_of_one_province_sees_nothing_of_another(client, two_provinces):
    login(client, two_provinces["officer"])
    for code in ("SCH-Q", "AG-Q"):
        assert client.get(f"/api/v1/units/{code}").status_code == 404
        assert client.get(f"/api/v1/users?unit={code}").status_code == 404
        assert client.get(f"/units/{code}").status_code == 404
    # The province itself is public reference data, but nothing under it leaks, counts included.
    assert client.get("/api/v1/units?parent=00691").get_json()["meta"]["total"] == 0
    assert client.get("/api/v1/users?unit=08").status_code == 404
    for person in two_provinces["people_q"]:
        assert client.get(f"/api/v1/users/{person.id}").status_code == 404
    own = client.get("/api/v1/users?unit=01").get_json()
    assert own["meta"]["total"] == 2  # the officer and the learner of SCH-P
    schools = client.get("/api/v1/units?kind=school").get_json()
    assert [u["code"] for u in schools["items"]] == ["SCH-P"]
