"""The audit log: every audited action writes exactly one event, with its actor, unit and the
request's ID; no personal ID is ever stored; the database refuses UPDATE and DELETE; officers
read their own subtree only (404 elsewhere); the CSV is spreadsheet-safe."""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from enrollment.reports import snapshots
from enrollment.rosters.models import LinkConflict, RosterEntry
from lms.audit.models import AuditEvent
from lms.audit.service import record
from lms.auth import local
from lms.auth.models import LocalAccount
from lms.db import utcnow
from lms.demo.people import synthetic_personal_id
from lms.jobs.models import Job, JobStatus
from lms.people.models import Role, RoleGrant, User
from lms.storage import keep_result
from lms.units.models import Unit
from lms.units.queries import find_unit_by_code
from tests.lms.test_scope import _certificate
from tests.support.factories import csrf_headers, login

TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """These tests download often; their counts must not spill into other tests' (ids repeat
    across rolled-back tests on SQLite)."""
    from lms.limits import limiter

    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


@pytest.fixture
def place(make):
    """Commune 00691 of Tuyên Quang (08): a school with a class, its admin, the province's
    officer, and a learner of the class."""
    school = make.unit("school", "00691", code="AUD-S", name="Trường Kiểm Toán")
    klass = make.unit("class", school, code="AUD-S-6A", name="Lớp 6A")
    return {"school": school, "class": klass,
            "admin": make.person(Role.UNIT_ADMIN, school, name="Quản Trị Viên"),
            "officer": make.person(Role.OFFICER, find_unit_by_code("08"), name="Cán Bộ Tỉnh"),
            "learner": make.person(Role.LEARNER, klass, name="Lò Thị Sình")}


def events_of(db, response) -> list[AuditEvent]:
    rid = response.headers["X-Request-ID"]
    return list(db.execute(select(AuditEvent).where(AuditEvent.request_id == rid)
                           .order_by(AuditEvent.id)).scalars())


def one_event(db, response, action, actor, unit) -> AuditEvent:
    """The request wrote exactly one event: this action, by this actor, on this unit."""
    assert response.status_code < 400, response.data[:300]
    found = events_of(db, response)
    assert [e.action for e in found] == [action]
    event = found[0]
    assert event.request_id == response.headers["X-Request-ID"]
    assert (event.actor_id, event.actor_name) == ((actor.id, actor.full_name) if actor
                                                  else (None, None))
    assert (event.unit_id, event.unit_path) == (unit.id, unit.path)
    assert event.at <= utcnow()
    return event


def roster_csv(people) -> bytes:
    lines = ["Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"]
    lines += [f"{name};{pid};05/09/2012;AUD-S-6A" for name, pid in people]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def people(count=3):
    rng = random.Random(8)
    return [(f"Học Sinh {n}", synthetic_personal_id(rng, "008", date(2012, 9, 5), n % 2 == 0,
                                                    700 + n)) for n in range(count)]


def test_sign_in_roles_and_rosters_each_record_one_event(client, db, make, place):
    school, klass, admin = place["school"], place["class"], place["admin"]
    # A school-account sign-in, through the real form
    (issued,) = local.create_class_accounts(admin, klass.code, [
        local.Student("Giàng A Páo", date(2013, 4, 3))])
    account = db.execute(select(LocalAccount).where(
        LocalAccount.username == issued.username)).scalar_one()
    local.change_secret(account, "an-audited-password")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/local").text)[1]
    response = client.post("/auth/local", data={"csrf_token": token, "username": issued.username,
                                                "code": "an-audited-password"})
    pupil = db.get(User, account.user_id)
    event = one_event(db, response, "auth.sign_in", pupil, klass)
    assert event.details == {"level": 1, "method": "school_account"}
    assert event.ip == "127.0.0.0/24"  # the network, never the address

    login(client, admin)
    pid = people(4)[3][1]
    other = make.user("Vừa Mới Đến", personal_id=pid)
    response = client.post("/api/v1/role-grants", headers=csrf_headers(client), json={
        "personal_id": pid, "role": "learner", "unit_code": klass.code})
    event = one_event(db, response, "roles.grant", admin, klass)
    assert event.target == f"user:{other.id}" and event.details["role"] == "learner"
    response = client.delete(f"/api/v1/role-grants/{response.get_json()['id']}",
                             headers=csrf_headers(client))
    one_event(db, response, "roles.revoke", admin, klass)

    response = client.post(f"/api/v1/units/{school.code}/roster/import?dry_run=false",
                           headers=csrf_headers(client),
                           data={"file": (io.BytesIO(roster_csv(people())), "roster.csv")})
    event = one_event(db, response, "rosters.import", admin, school)
    assert event.target.startswith("sha256:") and event.details["added"] == 3
    entry = db.execute(select(RosterEntry).where(RosterEntry.roster_unit_id == school.id)
                       .order_by(RosterEntry.id)).scalars().first()
    url = f"/api/v1/roster-entries/{entry.id}/exemption"
    response = client.put(url, headers=csrf_headers(client), json={
        "reason": "long_illness", "note": "ốm dài ngày"})
    event = one_event(db, response, "rosters.exempt", admin, klass)
    assert event.target == f"entry:{entry.id}" and event.details == {}  # no health data
    response = client.delete(url, headers=csrf_headers(client))
    one_event(db, response, "rosters.unexempt", admin, klass)
    response = client.delete(url, headers=csrf_headers(client))  # nothing to end: no event
    assert response.status_code == 200 and events_of(db, response) == []

    conflict = LinkConflict(unit_id=school.id, entry_id=entry.id,
                            personal_id_hash=entry.personal_id_hash, kind="two_accounts")
    db.add(conflict)
    db.flush()
    response = client.post(f"/api/v1/link-conflicts/{conflict.id}/resolve",
                           headers=csrf_headers(client), json={})
    one_event(db, response, "rosters.resolve_conflict", admin, school)


def test_assignments_locks_exports_and_certificates_each_record_one_event(client, db, make,
                                                                          place):
    school, admin = place["school"], place["admin"]
    cert = _certificate(make, place["learner"], school)
    login(client, admin)
    today = snapshots.local_today()
    response = client.post("/api/v1/assignments", headers=csrf_headers(client), json={
        "unit_code": school.code, "course_codes": ["TEST-ATGT"], "audience": "students",
        "start_on": today.isoformat(), "due_on": (today + timedelta(days=30)).isoformat()})
    event = one_event(db, response, "assignments.create", admin, school)
    assignment_id = response.get_json()["items"][0]["id"]
    assert event.target == str(assignment_id) and event.details["courses"] == ["TEST-ATGT"]
    response = client.delete(f"/api/v1/assignments/{assignment_id}",
                             headers=csrf_headers(client))
    one_event(db, response, "assignments.withdraw", admin, school)

    period = snapshots.recent_periods(snapshots.local_today())[1]
    response = client.post(f"/api/v1/units/{school.code}/snapshots",
                           headers=csrf_headers(client), json={"period": period})
    event = one_event(db, response, "snapshots.lock", admin, school)
    public_id = response.get_json()["id"]
    assert event.details["snapshot"] == public_id and event.target == f"{period} v1"

    for url in (f"/snapshots/{public_id}.csv", f"/units/{school.code}/figures.xlsx",
                f"/units/{school.code}/people.csv", f"/units/{school.code}/audit.csv"):
        response = client.get(url)
        assert response.status_code == 200 and response.data, url  # read, as a browser does
        event = one_event(db, response, "exports.download", admin, school)
        assert event.target and "/" not in event.target
    job = Job(kind="tests.export", requested_by_id=admin.id, unit_id=school.id,
              status=JobStatus.DONE, finished_at=utcnow(), expires_at=utcnow() + timedelta(1),
              result={"file": keep_result(b"a;b\r\n"), "filename": "list.csv"})
    db.add(job)
    db.flush()
    response = client.get(f"/jobs/{job.id}/download")
    assert one_event(db, response, "exports.download", admin, school).target == "list.csv"
    response = client.post(f"/units/{school.code}/certificates.zip",
                           data={"csrf_token": csrf_headers(client)["X-CSRFToken"]})
    assert response.mimetype == "application/zip"
    one_event(db, response, "exports.download", admin, school)

    response = client.post(f"/api/v1/certificates/{cert.serial}/reissue",
                           headers=csrf_headers(client), json={"full_name": "Lò Thị Sình"})
    event = one_event(db, response, "certificates.reissue", admin, school)
    assert event.target == cert.serial and event.details["version"] == 2
    new_serial = event.details["new"]
    response = client.post(f"/api/v1/certificates/{new_serial}/revoke",
                           headers=csrf_headers(client), json={"reason": "a valid reason"})
    assert one_event(db, response, "certificates.revoke", admin, school).target == new_serial
    # A refused change (the old version is no longer current) leaves no event.
    response = client.post(f"/api/v1/certificates/{cert.serial}/revoke",
                           headers=csrf_headers(client), json={"reason": "a valid reason"})
    assert response.status_code == 409 and events_of(db, response) == []


def test_no_personal_id_is_stored_in_clear(client, db, place):
    school, admin = place["school"], place["admin"]
    start = db.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()
    login(client, admin)
    roster = people(5)
    fixed = {"X-Request-ID": "audit-test-import"}
    client.post(f"/api/v1/units/{school.code}/roster/import?dry_run=false",
                headers={**csrf_headers(client), **fixed},
                data={"file": (io.BytesIO(roster_csv(roster)), f"{roster[0][1]}.csv")})
    entry = db.execute(select(RosterEntry).where(RosterEntry.roster_unit_id == school.id)
                       ).scalars().first()
    client.put(f"/api/v1/roster-entries/{entry.id}/exemption",
               headers={**csrf_headers(client), "X-Request-ID": "audit-test-exempt"},
               json={"reason": "other", "note": f"trùng với {roster[1][1]}"})
    # A careless caller cannot store one either.
    record("rosters.exempt", unit=school, target=f"id {roster[2][1]}",
           details={"note": roster[3][1]}, actor=None)
    rows = db.execute(select(AuditEvent).where(AuditEvent.id > start)).scalars().all()
    assert {e.action for e in rows} >= {"rosters.import", "rosters.exempt"}
    dump = repr([[getattr(e, c.key) for c in AuditEvent.__table__.columns] for e in rows])
    assert not TWELVE_DIGITS.search(dump), dump
    for _name, pid in roster:
        assert pid not in dump
    assert f"{roster[2][1][:4]}****{roster[2][1][-4:]}" in dump


@pytest.fixture
def stored_event(db, make, place):
    actor = make.user("Người Sẽ Bị Xoá")
    return record("roles.grant", unit=place["school"], target="user:1", actor=actor)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET target = 'changed' WHERE id = :id",
    "UPDATE audit_events SET actor_id = (SELECT MIN(id) FROM users) WHERE id = :id",
    "UPDATE audit_events SET at = at WHERE id = :id",
    "UPDATE audit_events SET actor_id = actor_id WHERE id = :id",
    "UPDATE audit_events SET actor_id = NULL, target = NULL WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_database_refuses_to_change_or_delete_an_event(db, stored_event, statement):
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement), {"id": stored_event.id})
    db.expire_all()
    assert db.get(AuditEvent, stored_event.id).target == "user:1"


def test_removing_the_actor_keeps_the_event_and_the_frozen_name(db, stored_event):
    actor_id = stored_event.actor_id
    db.execute(delete(User).where(User.id == actor_id))
    db.expire_all()
    kept = db.get(AuditEvent, stored_event.id)
    assert (kept.actor_id, kept.actor_name) == (None, "Người Sẽ Bị Xoá")
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(update(AuditEvent).where(AuditEvent.id == kept.id).values(actor_name="x"))


def test_officer_reads_own_province_only(client, db, make, place):
    school = place["school"]
    elsewhere = make.unit("school", "00070", code="AUD-HN", name="Trường Hà Nội")
    make.grant(make.user("Người Hà Nội"), Role.UNIT_ADMIN, elsewhere)
    make.grant(make.user("Người Tuyên Quang"), Role.UNIT_ADMIN, school)
    login(client, place["officer"])
    body = client.get("/api/v1/units/08/audit?action=roles.grant&per_page=1000").get_json()
    paths = {find_unit_by_code(i["unit_code"]).path for i in body["items"]}
    assert school.path in paths and elsewhere.path not in paths
    assert all(p.startswith(find_unit_by_code("08").path) for p in paths)
    assert body["meta"]["total"] == len(body["items"])
    page = client.get(f"/units/{school.code}/audit?action=roles.grant")
    assert page.status_code == 200 and "Trường Kiểm Toán" in page.text
    assert "Người Tuyên Quang" not in page.text  # the grantee is a user id, not a name
    for url in ("/units/AUD-HN/audit", "/units/AUD-HN/audit.csv", "/api/v1/units/AUD-HN/audit",
                "/units/01/audit", "/api/v1/units/01/audit"):
        assert client.get(url).status_code == 404, url


def test_another_provinces_admin_and_a_learner_get_404(client, make, place):
    hanoi = make.unit("school", "00070", code="AUD-HN2")
    login(client, make.person(Role.UNIT_ADMIN, hanoi))
    for url in ("/units/AUD-S/audit", "/units/AUD-S/audit.csv", "/api/v1/units/AUD-S/audit",
                "/units/08/audit", "/api/v1/units/08/audit"):
        assert client.get(url).status_code == 404, url
    login(client, place["learner"])
    assert client.get("/units/AUD-S-6A/audit").status_code == 404
    assert client.get("/api/v1/units/AUD-S-6A/audit").status_code == 404


def test_system_admin_sees_everything_including_events_without_a_unit(client, db, make, place):
    root = db.execute(select(Unit).where(Unit.parent_id.is_(None))).scalar_one()
    admin = make.person(Role.SYSTEM_ADMIN, root)
    record("auth.sign_in", target="no-unit-marker", actor=None)
    login(client, admin)
    body = client.get(f"/api/v1/units/{root.code}/audit?per_page=1000").get_json()
    targets = {i["target"] for i in body["items"]}
    assert "no-unit-marker" in targets
    assert {i["unit_code"] for i in body["items"]} >= {"AUD-S", "AUD-S-6A"}
    # Not at a province: an event of no unit belongs to no subtree.
    body = client.get("/api/v1/units/08/audit?per_page=1000").get_json()
    assert "no-unit-marker" not in {i["target"] for i in body["items"]}


def test_filters_use_local_dates_and_strict_arguments(client, db, place):
    school = place["school"]
    # 18:30 UTC on 31 May is 01:30 on 1 June in Hà Nội.
    db.add(AuditEvent(at=datetime(2026, 5, 31, 18, 30, tzinfo=UTC), action="snapshots.lock",
                      unit_id=school.id, unit_path=school.path, target="late-night",
                      details={}))
    db.flush()
    login(client, place["officer"])
    api = f"/api/v1/units/{school.code}/audit"
    june = client.get(f"{api}?since=2026-06-01&until=2026-06-01").get_json()
    assert [i["target"] for i in june["items"]] == ["late-night"]
    assert june["items"][0]["at"].startswith("2026-05-31T18:30")
    may = client.get(f"{api}?since=2026-05-01&until=2026-05-31").get_json()
    assert may["meta"]["total"] == 0
    page = client.get(f"/units/{school.code}/audit?since=2026-06-01&until=2026-06-01")
    assert "late-night" in page.text and "01:30" in page.text
    assert client.get(f"{api}?until=2026-05-01&since=2026-06-01").status_code == 422
    assert client.get(f"{api}?who=me").status_code == 422
    assert client.get(f"{api}?action=DROP TABLE").status_code == 422
    assert client.get(f"/units/{school.code}/audit?colour=red").status_code == 422


def test_csv_is_spreadsheet_safe(client, db, place):
    school = place["school"]
    # Forms refuse such a name (FORMULA_STARTS); an old row or a direct edit might not.
    db.execute(update(Unit).where(Unit.id == school.id).values(name="=HYPERLINK(\"x\")"))
    db.expire_all()
    record("snapshots.lock", unit=school.id, target="@SUM(1)", actor=None)
    login(client, place["officer"])
    response = client.get(f"/units/{school.code}/audit.csv?action=snapshots.lock")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    body = response.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "'@SUM(1)" in body
    assert not re.search(r"(^|[;,])[=@+-]", body.replace("\r\n", "\n"), re.M)


def test_grants_in_tests_and_commands_have_no_request(db, make, place):
    """Outside a request (a CLI command, a job) the actor is the system unless given, and
    there is no request ID or network."""
    grant = make.grant(make.user(), Role.LEARNER, place["class"])
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "roles.grant")
                       .order_by(AuditEvent.id.desc())).scalars().first()
    assert db.get(RoleGrant, grant.id) is not None
    assert (event.actor_id, event.request_id, event.ip) == (None, None, None)
