"""A roster file over ROSTER_SYNC_MAX_BYTES is checked and saved by background jobs: the
check job's page links to a review of the diff (from the stage), the save job writes the
roster; a bad file's job offers the problems list and writes nothing. Real commits, so an app
on a fresh database of each engine (see tests/lms/test_jobs.py)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from enrollment.rosters.models import RosterEntry
from lms import jobs
from lms.db import get_db, session, transaction
from lms.people.models import Role
from lms.people.service import grant_role
from lms.units import service as units
from lms.units.models import UnitKind
from lms.units.queries import find_unit_by_code
from lms.units.service import load_official_units
from tests.enrollment.test_rosters import excel_csv, students
from tests.lms.test_jobs import WAIT, fresh_app, fresh_database, signed_in


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def roster_app(request, tmp_path_factory):
    url = fresh_database(request, tmp_path_factory, "roster_jobs")
    app = fresh_app(url, tmp_path_factory.mktemp("storage"), ROSTER_SYNC_MAX_BYTES=500)
    with app.app_context(), transaction():
        load_official_units()
        school = units.new_unit("RJ-S", "Trường Việc Nền", UnitKind.SCHOOL,
                                find_unit_by_code("00691"))
        units.new_unit("RJ-S-6A", "Lớp 6A", UnitKind.CLASS, school)
    yield app
    assert jobs.wait_all(WAIT, app=app)
    get_db(app).dispose()


def admin_client(app):
    client, user_id = signed_in(app, "Hiệu Trưởng")
    with app.app_context(), transaction():
        grant_role(None, role=Role.UNIT_ADMIN, unit_code="RJ-S", user_id=user_id)
    return client


def csrf(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def finished_page(app, client, response):
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    assert jobs.wait_all(WAIT, app=app)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page


def entries(app):
    with app.app_context():
        return session.execute(select(func.count()).select_from(RosterEntry)).scalar_one()


def test_large_file_checked_then_saved_by_jobs(roster_app):
    client = admin_client(roster_app)
    data = excel_csv(students(12))
    assert len(data) > 500
    checked = client.post("/units/RJ-S/roster/check", data={
        "csrf_token": csrf(client, "/units/RJ-S/roster"), "file": (io.BytesIO(data), "l.csv")})
    page = finished_page(roster_app, client, checked)
    assert entries(roster_app) == 0  # a check writes no roster
    review_url = re.search(r'href="(/units/RJ-S/roster/uploads/[0-9a-f]{64})"', page.text).group(1)
    review = client.get(review_url)
    assert review.status_code == 200 and "12" in review.text
    form = dict(re.findall(r'name="(upload|import_key|csrf_token)" value="([^"]+)"',
                           review.text))
    saved = client.post("/units/RJ-S/roster/import", data=form)
    page = finished_page(roster_app, client, saved)
    assert 'href="/units/RJ-S/roster"' in page.text
    assert entries(roster_app) == 12
    # the same import key again: one import, nothing doubled
    again = client.post("/units/RJ-S/roster/import", data=form)
    finished_page(roster_app, client, again)
    assert entries(roster_app) == 12
    # another admin cannot open this upload's review
    other = admin_client(roster_app)
    assert other.get(review_url).status_code == 404


def test_large_bad_file_job_offers_problems_and_writes_nothing(roster_app):
    client = admin_client(roster_app)
    before = entries(roster_app)
    data = excel_csv(students(12, seed=11, first_serial=700), bad_line=7)
    checked = client.post("/units/RJ-S/roster/check", data={
        "csrf_token": csrf(client, "/units/RJ-S/roster"), "file": (io.BytesIO(data), "b.csv")})
    page = finished_page(roster_app, client, checked)
    assert 'id="job-next"' not in page.text
    download = re.search(r'href="([^"]+)" id="job-download"', page.text).group(1)
    problems = client.get(download)
    assert problems.status_code == 200 and b"\n7," in problems.data.replace(b"\r\n", b"\n")
    assert entries(roster_app) == before
