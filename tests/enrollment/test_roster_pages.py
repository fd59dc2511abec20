"""Roster API and pages: dry run first, import of the checked file, problems as safe CSV,
exemptions, conflicts, all scoped."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from enrollment.rosters.models import EntryStatus, LinkConflict, RosterEntry
from lms.people.models import Role
from tests.enrollment.test_rosters import excel_csv, students
from tests.support.factories import csrf_headers, login


@pytest.fixture
def school(make):
    school = make.unit("school", "00691", code="RP-S", name="Trường THCS Thử")
    make.unit("class", school, code="RP-S-6A", name="Lớp 6A")
    return school, make.person(Role.UNIT_ADMIN, school)


def count(db):
    return db.execute(select(func.count()).select_from(RosterEntry)).scalar_one()


def token(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def test_api_dry_run_then_import(client, school, db):
    login(client, school[1])
    headers = csrf_headers(client)
    data = excel_csv(students(8), bad_line=5)
    checked = client.post("/api/v1/units/RP-S/roster/import", headers=headers, data={
        "file": (io.BytesIO(data), "lop.csv")}).get_json()
    assert checked["valid"] is False and checked["problems"][0]["line"] == 5
    refused = client.post("/api/v1/units/RP-S/roster/import?dry_run=false", headers=headers,
                          data={"file": (io.BytesIO(data), "lop.csv")})
    assert refused.status_code == 422 and refused.get_json()["errors"]["lines"][0]["line"] == 5
    assert count(db) == 0
    good = client.post("/api/v1/units/RP-S/roster/import?dry_run=false&idempotency_key=k-12345678",
                       headers=headers,
                       data={"file": (io.BytesIO(excel_csv(students(8))), "lop.csv")})
    assert good.get_json()["added"] == 8 and count(db) == 8
    listed = client.get("/api/v1/units/RP-S/roster").get_json()
    assert listed["meta"]["total"] == 8 and "****" in listed["items"][0]["personal_id_masked"]


def test_pages_check_then_save_the_same_file(client, school, db):
    login(client, school[1])
    csrf = token(client, "/units/RP-S/roster")
    bad = client.post("/units/RP-S/roster/check", data={
        "csrf_token": csrf, "file": (io.BytesIO(excel_csv(students(6), bad_line=4)), "a.csv")})
    assert bad.status_code == 422 and "<td>4</td>" in bad.text
    link = re.search(r'href="([^"]+problems\.csv)"', bad.text).group(1)
    problems = client.get(link)
    assert problems.data.startswith(b"\xef\xbb\xbf") and "Ngày sinh".encode() in problems.data
    checked = client.post("/units/RP-S/roster/check", data={
        "csrf_token": csrf, "file": (io.BytesIO(excel_csv(students(6))), "a.csv")})
    assert checked.status_code == 200 and count(db) == 0
    upload = re.search(r'name="upload" value="([0-9a-f]{64})"', checked.text).group(1)
    import_key = re.search(r'name="import_key" value="([^"]+)"', checked.text).group(1)
    for _ in range(2):  # a double click saves once
        saved = client.post("/units/RP-S/roster/import", data={
            "csrf_token": csrf, "upload": upload, "import_key": import_key})
        assert saved.status_code == 303
    assert count(db) == 6
    page = client.get("/units/RP-S/roster")
    assert page.status_code == 200 and page.text.count("****") == 6


def test_exemptions_and_conflicts_through_the_api(client, school, db, make):
    login(client, school[1])
    headers = csrf_headers(client)
    client.post("/api/v1/units/RP-S/roster/import?dry_run=false", headers=headers,
                data={"file": (io.BytesIO(excel_csv(students(3))), "x.csv")})
    entry_id = db.execute(select(RosterEntry.id)).scalars().first()
    exempt = client.put(f"/api/v1/roster-entries/{entry_id}/exemption", headers=headers,
                        json={"reason": "long_illness", "note": "nghỉ ốm"})
    assert exempt.get_json()["status"] == "exempt"
    assert client.put(f"/api/v1/roster-entries/{entry_id}/exemption", headers=headers,
                      json={"reason": "vacation"}).status_code == 422
    back = client.delete(f"/api/v1/roster-entries/{entry_id}/exemption", headers=headers)
    assert back.get_json()["status"] == EntryStatus.ACTIVE.value
    entry = db.get(RosterEntry, entry_id)
    db.add(LinkConflict(unit_id=entry.roster_unit_id, entry_id=entry.id,
                        personal_id_hash=entry.personal_id_hash, kind="two_accounts"))
    db.flush()
    [conflict] = client.get("/api/v1/units/RP-S/link-conflicts").get_json()
    outsider = make.person(Role.UNIT_ADMIN, make.unit("school", "00694"))
    login(client, outsider)
    other_headers = csrf_headers(client)
    assert client.post(f"/api/v1/link-conflicts/{conflict['id']}/resolve",
                       headers=other_headers, json={}).status_code == 404
    assert client.put(f"/api/v1/roster-entries/{entry_id}/exemption", headers=other_headers,
                      json={"reason": "other"}).status_code == 404
    assert client.get("/api/v1/units/RP-S/roster").status_code == 404
    assert client.get("/units/RP-S/roster").status_code == 404
    login(client, school[1])
    headers = csrf_headers(client)
    stranger = make.user("Người ngoài")
    wrong = client.post(f"/api/v1/link-conflicts/{conflict['id']}/resolve",
                        headers=headers, json={"user_id": stranger.id})
    assert wrong.status_code == 422 and "user_id" in wrong.get_json()["errors"]
    resolved = client.post(f"/api/v1/link-conflicts/{conflict['id']}/resolve",
                           headers=headers, json={"user_id": None})
    assert resolved.status_code == 200
    assert client.get("/api/v1/units/RP-S/link-conflicts").get_json() == []


def test_roster_page_shows_completion_against_the_roster(client, school, db, tmp_path):
    from datetime import date

    from courses.service import import_package
    from enrollment.assignments.models import Assignment
    from tests.courses.package_factory import write_package

    import_package(write_package(tmp_path / "pkg"))
    db.add(Assignment(unit_id=school[0].id, course_code="TEST-ATGT", audience="students",
                      start_on=date(2026, 9, 5), due_on=date(2026, 12, 31)))
    login(client, school[1])
    headers = csrf_headers(client)
    client.post("/api/v1/units/RP-S/roster/import?dry_run=false", headers=headers,
                data={"file": (io.BytesIO(excel_csv(students(35))), "lop.csv")})
    page = client.get("/units/RP-S/roster").text
    assert '<td class="figure">0/35</td>' in page and "31/12/2026" in page


def test_exempt_and_close_conflicts_from_the_page(client, school, db):
    login(client, school[1])
    headers = csrf_headers(client)
    client.post("/api/v1/units/RP-S/roster/import?dry_run=false", headers=headers,
                data={"file": (io.BytesIO(excel_csv(students(2))), "x.csv")})
    entry = db.execute(select(RosterEntry)).scalars().first()
    db.add(LinkConflict(unit_id=entry.roster_unit_id, entry_id=entry.id,
                        personal_id_hash=entry.personal_id_hash, kind="two_accounts"))
    db.flush()
    page = client.get("/units/RP-S/roster").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/units/RP-S/roster/entries/{entry.id}/exemption", data={
        "csrf_token": csrf, "reason": "duplicate"}).status_code == 303
    db.expire_all()  # the request changed the rows through its own session
    assert db.get(RosterEntry, entry.id).status is EntryStatus.EXEMPT
    conflict_id = db.execute(select(LinkConflict.id)).scalar_one()
    assert client.post(f"/units/RP-S/roster/conflicts/{conflict_id}",
                       data={"csrf_token": csrf}).status_code == 303
    db.expire_all()
    assert db.get(LinkConflict, conflict_id).resolved_at is not None
