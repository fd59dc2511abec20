"""Monthly locked snapshots: the figures at the moment of locking, hand-computed; the hash
recomputed; children's snapshots referenced by the parent; corrections need a note and show a
diff; late completions land in the next month; submissions on time, late or missing; another
province's officer gets 404; two simultaneous locks make one version."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select

from courses.models import Audience
from courses.service import import_package
from enrollment import service as enrollment_service
from enrollment.assignments.service import create_assignment
from enrollment.reports import snapshots
from enrollment.reports.figures import live_children
from enrollment.reports.snapshot_models import ReportSnapshot
from enrollment.rosters import service as rosters
from enrollment.rosters.importer import import_roster
from lms.demo.people import synthetic_personal_id
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.people import service as people
from lms.people.models import Role, RoleGrant, User
from lms.pii import hash_personal_id
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import write_package
from tests.enrollment.test_concurrency import race
from tests.support.cleanup import delete_users
from tests.support.factories import csrf_headers, login

COMMUNE = "00691"  # a commune of Tuyên Quang (province 08)
DUE = date(2026, 5, 31)
# Lock instants (UTC): 3 June 10:00 and 7 June in Vietnam, and early July.
JUNE_3 = datetime(2026, 6, 3, 3, 0, tzinfo=UTC)
JUNE_7 = datetime(2026, 6, 7, 3, 0, tzinfo=UTC)
JULY_2 = datetime(2026, 7, 2, 3, 0, tzinfo=UTC)


def roster_csv(people_rows):
    lines = ["Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"]
    lines += [f"{name};{pid};05/09/2012;{klass}" for name, pid, klass in people_rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


class Clock:
    """The clock the snapshot service reads (lms.db.utcnow through snapshots.utcnow)."""

    def __init__(self, monkeypatch, moment: datetime):
        self.moment = moment
        monkeypatch.setattr(snapshots, "utcnow", lambda: self.moment)


def build_commune(make, tmp_path):
    """Commune 00691: school SN-S1 (class A: people 1–4), school SN-S2 (class C: 5–6);
    TEST-ATGT assigned to the commune's students, due 31 May. Accounts 1, 2, 3, 5; 1 and 5
    completed, 2 in progress."""
    import_package(write_package(tmp_path / "v1"))
    s1 = make.unit("school", COMMUNE, code="SN-S1", name="Trường Tiểu học Một")
    s2 = make.unit("school", COMMUNE, code="SN-S2", name="Trường Tiểu học Hai")
    make.unit("class", s1, code="SN-S1-A", name="Lớp A")
    make.unit("class", s2, code="SN-S2-C", name="Lớp C")
    rng = random.Random(7)
    ids = {n: synthetic_personal_id(rng, "008", date(2012, 9, 5), n % 2 == 0, 700 + n)
           for n in range(1, 7)}
    officer = make.person(Role.OFFICER, find_unit_by_code(COMMUNE), name="Hoàng Thị Lụa")
    create_assignment(officer, COMMUNE, ["TEST-ATGT"], Audience.STUDENTS, date(2026, 5, 1), DUE)
    import_roster(None, "SN-S1", "s1.csv", roster_csv(
        [(f"Học Sinh {n}", ids[n], "SN-S1-A") for n in (1, 2, 3, 4)]), dry_run=False)
    import_roster(None, "SN-S2", "s2.csv", roster_csv(
        [(f"Học Sinh {n}", ids[n], "SN-S2-C") for n in (5, 6)]), dry_run=False)
    users = {}
    for n in (1, 2, 3, 4, 5):
        user = make.user(name=f"Học Sinh {n}", personal_id=ids[n])
        make.grant(user, Role.LEARNER, find_unit_by_code("SN-S1-A" if n < 5 else "SN-S2-C"))
        rosters.link_user(user, hash_personal_id(ids[n]))
        users[n] = user
    complete(users[1])
    complete(users[5])
    enrollment_service.enroll(users[2], "TEST-ATGT")
    return {"s1": s1, "s2": s2, "users": users, "officer": officer,
            "province_officer": make.person(Role.OFFICER, find_unit_by_code("08")),
            "elsewhere": make.person(Role.OFFICER, find_unit_by_code("01"))}


def complete(user):
    enrollment_service._complete(enrollment_service.enroll(user, "TEST-ATGT"))


@pytest.fixture
def commune(db, make, tmp_path, monkeypatch):
    world = build_commune(make, tmp_path)
    world["clock"] = Clock(monkeypatch, JUNE_3)
    return world


def recomputed(content) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


# Service ---------------------------------------------------------------------------------------

def test_lock_holds_the_hand_computed_figures_and_a_verifiable_hash(db, commune):
    snapshot = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    content = snapshot.content
    # on 3 June (after the due date) everyone not completed is overdue
    assert content["figures"] == {"expected": 6, "completed": 2, "in_progress": 1,
                                  "not_started": 3, "overdue": 4, "exempt": 0}
    children = {c["code"]: c for c in content["children"]}
    assert children["SN-S1"]["figures"] == {"expected": 4, "completed": 1, "in_progress": 1,
                                            "not_started": 2, "overdue": 3, "exempt": 0}
    assert children["SN-S2"]["figures"] == {"expected": 2, "completed": 1, "in_progress": 0,
                                            "not_started": 1, "overdue": 1, "exempt": 0}
    # ...which are the live figures at lock time, counted from enrolments too
    live = live_children(find_unit_by_code(COMMUNE), date(2026, 6, 3))
    for code in ("SN-S1", "SN-S2"):
        assert children[code]["figures"] == {
            f: getattr(live[code], f) for f in snapshots.FIGURE_FIELDS}
    assert content["unit"] == {"code": COMMUNE, "name": find_unit_by_code(COMMUNE).name,
                               "kind": "commune"}
    assert content["parent"]["code"] == "08"
    assert content["period"] == "2026-05" and content["version"] == 1
    assert content["locked_at"] == "2026-06-03T03:00:00+00:00"
    assert content["locked_by"] == "Hoàng Thị Lụa"
    assert content["courses"] == ["TEST-ATGT"]
    assert snapshot.content_hash == recomputed(content)
    assert snapshot.version == 1 and snapshot.supersedes_id is None
    assert len(snapshot.public_id) >= 20
    db.expire_all()  # what was stored, not the object in memory
    stored = db.get(ReportSnapshot, snapshot.id)
    assert recomputed(stored.content) == stored.content_hash == snapshot.content_hash
    assert stored.locked_at == JUNE_3


def test_parent_content_refers_to_the_childrens_latest_snapshots(db, commune):
    first = snapshots.lock(commune["officer"], "SN-S1", "2026-05")
    second = snapshots.lock(commune["officer"], "SN-S1", "2026-05", note="Sửa lớp A")
    snapshots.lock(commune["officer"], "SN-S2", "2026-04")  # another month: not referred to
    parent = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    children = {c["code"]: c["snapshot"] for c in parent.content["children"]}
    assert children["SN-S1"] == {"id": second.public_id, "hash": second.content_hash,
                                 "version": 2}
    assert first.public_id != second.public_id
    assert children["SN-S2"] is None
    assert parent.content_hash == recomputed(parent.content)


def test_late_completion_stays_out_of_the_locked_month_and_lands_in_the_next(db, commune):
    may = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    before = json.dumps(may.content, sort_keys=True)
    complete(commune["users"][3])
    db.expire_all()
    again = db.get(ReportSnapshot, may.id)
    assert json.dumps(again.content, sort_keys=True) == before
    assert again.content_hash == may.content_hash == recomputed(again.content)
    commune["clock"].moment = JULY_2
    june = snapshots.lock(commune["officer"], COMMUNE, "2026-06")
    assert june.version == 1
    assert june.content["figures"]["completed"] == 3
    assert may.content["figures"]["completed"] == 2


def test_a_correction_needs_a_note_and_records_what_changed(db, commune):
    first = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    for note in (None, "", "   "):
        with pytest.raises(ValidationFailed) as refused:
            snapshots.lock(commune["officer"], COMMUNE, "2026-05", note=note)
        assert "note" in refused.value.errors
    complete(commune["users"][4])
    commune["clock"].moment = JUNE_7
    second = snapshots.lock(commune["officer"], COMMUNE, "2026-05",
                            note="Bổ sung kết quả lớp A")
    assert (second.version, second.supersedes_id, second.note) == (
        2, first.id, "Bổ sung kết quả lớp A")
    change = snapshots.diff(first.content, second.content)
    assert change["figures"] == {"completed": {"old": 2, "new": 3},
                                 "not_started": {"old": 3, "new": 2},
                                 "overdue": {"old": 4, "new": 3}}
    assert [c["code"] for c in change["children"]] == ["SN-S1"]
    assert change["children"][0]["figures"]["completed"] == {"old": 1, "new": 2}
    # the same correction sent twice is one version
    assert snapshots.lock(commune["officer"], COMMUNE, "2026-05",
                          note="Bổ sung kết quả lớp A").id == second.id
    # the first version is untouched
    assert first.content["figures"]["completed"] == 2
    assert first.content_hash == recomputed(first.content)


def test_diff_lists_added_and_removed_children():
    old = {"figures": {"expected": 1}, "courses": ["A"],
           "children": [{"code": "X", "name": "X", "figures": {"expected": 1}}]}
    new = {"figures": {"expected": 2}, "courses": ["A", "B"],
           "children": [{"code": "Y", "name": "Y", "figures": {"expected": 2}}]}
    change = snapshots.diff(old, new)
    assert change["figures"] == {"expected": {"old": 1, "new": 2}}
    assert change["courses"] == {"added": ["B"], "removed": []}
    assert [(c["code"], c["change"]) for c in change["children"]] == [
        ("X", "removed"), ("Y", "added")]
    assert change["children"][1]["figures"]["expected"] == {"old": None, "new": 2}


@pytest.mark.parametrize("period", ["2026-07", "2027-01", "2019-12", "2026-13", "26-05", ""])
def test_periods_in_the_future_or_before_2020_are_refused(db, commune, period):
    with pytest.raises(ValidationFailed) as refused:
        snapshots.lock(commune["officer"], COMMUNE, period)
    assert "period" in refused.value.errors
    assert db.execute(select(ReportSnapshot)).first() is None


def test_the_current_month_may_be_locked(db, commune):
    assert snapshots.lock(commune["officer"], COMMUNE, "2026-06").period == "2026-06"


def test_who_may_lock(db, make, commune):
    admin = make.person(Role.UNIT_ADMIN, commune["s1"])
    assert snapshots.lock(admin, "SN-S1", "2026-05").version == 1
    for actor, code in ((admin, COMMUNE), (admin, "SN-S2"), (commune["elsewhere"], COMMUNE),
                        (commune["elsewhere"], "08"), (commune["officer"], "08"),
                        (None, COMMUNE)):
        with pytest.raises(NotFound):
            snapshots.lock(actor, code, "2026-05")


def test_a_lock_that_loses_the_race_is_a_conflict(db, commune, monkeypatch):
    snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    # as if a simultaneous lock had not been visible: the unique version refuses the second
    monkeypatch.setattr(snapshots, "latest_snapshot", lambda unit_id, period: None)
    with pytest.raises(Conflict):
        snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    # the savepoint rolled back alone: the session and the first version are intact
    assert [s.version for s in db.execute(select(ReportSnapshot)).scalars()] == [1]


def test_submissions_on_time_late_and_missing(db, make, commune):
    make.unit("school", COMMUNE, code="SN-S3", name="Trường Ba")
    snapshots.lock(commune["officer"], "SN-S1", "2026-05")  # 3 June: on time
    commune["clock"].moment = JUNE_7
    snapshots.lock(commune["officer"], "SN-S2", "2026-05")  # 7 June: after the 5th
    fixed = snapshots.lock(commune["officer"], "SN-S1", "2026-05", note="Sửa")
    rows = {r.code: r for r in snapshots.submissions(commune["officer"], COMMUNE, "2026-05")}
    assert {code: r.status for code, r in rows.items()} == {
        "SN-S1": "on_time", "SN-S2": "late", "SN-S3": "missing"}
    assert rows["SN-S1"].snapshot == {"id": fixed.public_id, "version": 2,
                                      "locked_at": JUNE_7}  # latest version, first on time
    assert rows["SN-S1"].first_locked_at == JUNE_3
    assert rows["SN-S3"].snapshot is None
    # the deadline is the end of 5 June, Vietnam time
    assert snapshots.deadline("2026-05") == datetime(2026, 6, 5, 17, 0, tzinfo=UTC)
    assert snapshots.deadline("2026-12") == datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
    with pytest.raises(NotFound):
        snapshots.submissions(commune["elsewhere"], COMMUNE, "2026-05")


def test_reading_snapshots_follows_the_unit_scope(db, make, commune):
    parent = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    child = snapshots.lock(commune["officer"], "SN-S1", "2026-05")
    assert snapshots.get_snapshot(commune["province_officer"], parent.public_id) == parent
    admin = make.person(Role.UNIT_ADMIN, commune["s1"])
    assert snapshots.get_snapshot(admin, child.public_id) == child
    for actor, snapshot in ((admin, parent), (commune["elsewhere"], parent),
                            (commune["elsewhere"], child), (None, child)):
        with pytest.raises(NotFound):
            snapshots.get_snapshot(actor, snapshot.public_id)


# HTTP ------------------------------------------------------------------------------------------

def test_api_lock_list_read_and_correct(client, commune):
    login(client, commune["officer"])
    headers = csrf_headers(client)
    created = client.post(f"/api/v1/units/{COMMUNE}/snapshots", headers=headers,
                          json={"period": "2026-05"})
    assert created.status_code == 201, created.data
    body = created.get_json()
    assert body["version"] == 1 and body["supersedes"] is None and body["diff"] is None
    assert body["content_hash"] == recomputed(body["content"])
    again = client.post(f"/api/v1/units/{COMMUNE}/snapshots", headers=headers,
                        json={"period": "2026-05"})
    assert again.status_code == 422
    assert again.get_json()["code"] == "validation_failed"
    assert "note" in again.get_json()["errors"]
    complete(commune["users"][4])
    fixed = client.post(f"/api/v1/units/{COMMUNE}/snapshots", headers=headers,
                        json={"period": "2026-05", "note": "Bổ sung lớp A"})
    assert fixed.status_code == 201
    fixed = fixed.get_json()
    assert fixed["version"] == 2 and fixed["supersedes"] == body["id"]
    assert fixed["diff"]["figures"]["completed"] == {"old": 2, "new": 3}
    listed = client.get(f"/api/v1/units/{COMMUNE}/snapshots?period=2026-05").get_json()
    assert [s["version"] for s in listed["items"]] == [2, 1]
    assert listed["meta"]["total"] == 2
    read = client.get(f"/api/v1/snapshots/{fixed['id']}").get_json()
    assert read["content"] == fixed["content"] and read["note"] == "Bổ sung lớp A"
    assert read["diff"]["children"][0]["code"] == "SN-S1"
    page = client.get(f"/snapshots/{fixed['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="diff"' in html and "Bổ sung lớp A" in html and fixed["content_hash"] in html


@pytest.mark.parametrize("body", [{"period": "2026-07"}, {"period": "2019-01"},
                                  {"period": "May"}, {}])
def test_api_refuses_a_bad_period(client, commune, body):
    login(client, commune["officer"])
    response = client.post(f"/api/v1/units/{COMMUNE}/snapshots", headers=csrf_headers(client),
                           json=body)
    assert response.status_code == 422
    assert "period" in response.get_json()["errors"]


def test_api_refuses_unknown_fields_and_needs_csrf(client, commune):
    login(client, commune["officer"])
    response = client.post(f"/api/v1/units/{COMMUNE}/snapshots", headers=csrf_headers(client),
                           json={"period": "2026-05", "version": 7})
    assert response.status_code == 422
    assert client.post(f"/api/v1/units/{COMMUNE}/snapshots",
                       json={"period": "2026-05"}).status_code == 400


def test_officer_of_another_province_gets_404_everywhere(client, make, commune):
    province = snapshots.lock(commune["province_officer"], "08", "2026-05")
    local = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    login(client, commune["elsewhere"])  # an officer of Hà Nội
    headers = csrf_headers(client)
    for code in ("08", COMMUNE, "SN-S1"):
        assert client.post(f"/api/v1/units/{code}/snapshots", headers=headers,
                           json={"period": "2026-05"}).status_code == 404
        assert client.get(f"/api/v1/units/{code}/snapshots").status_code == 404
        assert client.get(f"/api/v1/units/{code}/submissions?period=2026-05"
                          ).status_code == 404
        assert client.get(f"/units/{code}/reports").status_code == 404
        assert client.post(f"/units/{code}/reports", data={
            "csrf_token": headers["X-CSRFToken"], "period": "2026-05"}).status_code == 404
        for fmt in ("csv", "xlsx"):
            assert client.get(f"/units/{code}/figures.{fmt}").status_code == 404
    for snapshot in (province, local):
        assert client.get(f"/api/v1/snapshots/{snapshot.public_id}").status_code == 404
        assert client.get(f"/snapshots/{snapshot.public_id}").status_code == 404
        for fmt in ("csv", "xlsx", "pdf"):
            response = client.get(f"/snapshots/{snapshot.public_id}.{fmt}")
            assert response.status_code == 404
            assert "attachment" not in response.headers.get("Content-Disposition", "")
    # ...while the province's own officer reads the commune's snapshot
    login(client, commune["province_officer"])
    assert client.get(f"/api/v1/snapshots/{local.public_id}").status_code == 200


def test_api_submissions(client, commune):
    snapshots.lock(commune["officer"], "SN-S1", "2026-05")
    login(client, commune["officer"])
    body = client.get(f"/api/v1/units/{COMMUNE}/submissions?period=2026-05").get_json()
    rows = {r["unit_code"]: r for r in body["items"]}
    assert rows["SN-S1"]["status"] == "on_time" and rows["SN-S1"]["snapshot"]["version"] == 1
    assert rows["SN-S2"]["status"] == "missing" and rows["SN-S2"]["snapshot"] is None
    assert rows["SN-S2"]["deadline"].startswith("2026-06-05T17:00:00")
    assert client.get(f"/api/v1/units/{COMMUNE}/submissions?period=2026-05&x=1"
                      ).status_code == 422


def test_reports_page_locks_through_the_form(client, commune):
    login(client, commune["officer"])
    page = client.get(f"/units/{COMMUNE}/reports?period=2026-05")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'id="lock-form"' in html
    assert 'data-code="SN-S1" data-status="missing"' in html
    token = headers_token(client)
    assert client.post(f"/units/{COMMUNE}/reports",
                       data={"period": "2026-05"}).status_code == 400  # no CSRF token
    done = client.post(f"/units/{COMMUNE}/reports",
                       data={"csrf_token": token, "period": "2026-05"})
    assert done.status_code == 303 and "/snapshots/" in done.headers["Location"]
    refused = client.post(f"/units/{COMMUNE}/reports",
                          data={"csrf_token": token, "period": "2026-05"})
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/reports")
    html = client.get(f"/units/{COMMUNE}/reports").get_data(as_text=True)
    assert 'data-period="2026-05" data-version="1"' in html
    assert 'data-version="2"' not in html  # the correction without a note was refused
    assert html.count(".pdf") >= 1


def headers_token(client) -> str:
    return csrf_headers(client)["X-CSRFToken"]


# Concurrency: two locks at the same moment, each in its own transaction -----------------------

@pytest.fixture
def lone_officer(app):
    def setup():
        user = people.new_user(issuer="race", subject="snapshot-officer", full_name="Người khóa")
        from lms.db import session

        session.flush()
        people.grant_role(None, role=Role.OFFICER, unit_code="00070", user_id=user.id)
        return user.id

    user_id = _own(app, setup)
    yield user_id

    def cleanup():
        from lms.db import session

        unit = find_unit_by_code("00070")
        session.execute(delete(ReportSnapshot).where(ReportSnapshot.unit_id == unit.id))
        session.execute(delete(RoleGrant).where(RoleGrant.user_id == user_id))
        delete_users(session, [user_id])

    _own(app, cleanup)


def _own(app, work):
    from tests.enrollment.test_concurrency import in_own_transaction

    return in_own_transaction(app, work)


def test_two_simultaneous_locks_make_one_version(app, lone_officer):
    def work():
        from lms.db import session

        user = session.get(User, lone_officer)
        user.session_level = 2
        return snapshots.lock(user, "00070", "2026-05").version

    results, errors = race(app, 2, work)
    assert results == [1]
    assert len(errors) == 1 and isinstance(errors[0], (ValidationFailed, Conflict)), errors

    def versions():
        from lms.db import session

        unit = find_unit_by_code("00070")
        return list(session.execute(select(ReportSnapshot.version).where(
            ReportSnapshot.unit_id == unit.id)).scalars())

    assert _own(app, versions) == [1]

