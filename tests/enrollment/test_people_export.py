"""The people-list CSV export, hand-computed: BOM, CRLF, translated header, masked IDs only,
formula-like names neutralised, the state as the figures count it; the same bytes on SQLite
and PostgreSQL, streamed or through a job (whose download only its requester gets); 404 out
of scope."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from courses.models import Audience, Course
from courses.service import import_package
from enrollment.assignments.models import Assignment
from enrollment.models import Enrollment
from enrollment.reports import people_export
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms import jobs
from lms.db import get_db, session, transaction
from lms.people import service as people
from lms.people.models import Role
from lms.units import service as units
from lms.units.models import Unit, UnitKind
from lms.units.queries import find_unit_by_code
from lms.units.service import load_official_units
from tests.courses.package_factory import write_package
from tests.lms.test_jobs import WAIT
from tests.support.factories import login, signed_in_client

DUE = date(2026, 5, 31)
BEFORE_DUE, AFTER_DUE = date(2026, 5, 20), date(2026, 6, 2)
COMMUNE = "00691"  # a commune of Tuyên Quang (08)
FORMULA_CLASS = '=HYPERLINK("x")'
PEOPLE = [  # name, class, personal ID, status, enrolment (None, "started", completed_at)
    ("+Lò Văn Pá", "A", "008212000101", EntryStatus.ACTIVE,
     datetime(2026, 5, 20, 20, 0, tzinfo=UTC)),  # 21/05/2026 in Việt Nam
    ("Nguyễn Thị Mai", "A", "008312000102", EntryStatus.ACTIVE, "started"),
    ("Trần Văn Bình", "B", "008212000103", EntryStatus.EXEMPT, None),
    ("Lê Thị Hoa", "B", "008312000104", EntryStatus.LEFT, None),
    ("Hà Văn Dũng", "B", "008212000105", EntryStatus.ACTIVE, None),  # never signed in
]


def build(tmp_path, prefix: str) -> dict:
    """School <prefix>-S in the commune with classes A (named like a formula) and B, the
    course TEST-ATGT assigned to the commune's students (due 31 May 2026), five people."""
    if session.query(Course).filter_by(code="TEST-ATGT").first() is None:
        import_package(write_package(tmp_path / f"pkg-{prefix}"))
    course = session.query(Course).filter_by(code="TEST-ATGT").one()
    commune = find_unit_by_code(COMMUNE)
    school = units.new_unit(f"{prefix}-S", "Trường Một", UnitKind.SCHOOL, commune)
    classes = {k: units.new_unit(f"{prefix}-S-{k}", f"Lớp {k}", UnitKind.CLASS, school)
               for k in "AB"}
    session.flush()
    # The services refuse such a name; an old import or a direct edit might not have.
    session.execute(update(Unit).where(Unit.id == classes["A"].id).values(name=FORMULA_CLASS))
    session.add(Assignment(unit_id=commune.id, course_code="TEST-ATGT",
                           audience=Audience.STUDENTS, start_on=date(2026, 5, 1), due_on=DUE))
    for n, (name, klass, pid, status, progress) in enumerate(PEOPLE):
        user = None
        if n != 4:
            user = people.new_user(issuer="https://idp.test", subject=f"{prefix}-{n}",
                                   full_name=name, birth_on=date(2012, 9, 5), personal_id=pid)
            session.flush()
        hashed = user.personal_id_hash if user else "f" * 64
        session.add(RosterEntry(
            unit_id=classes[klass].id, roster_unit_id=school.id, personal_id_hash=hashed,
            personal_id_masked=pid[:4] + "****" + pid[-4:], full_name=name,
            birth_on=date(2012, 9, 5), status=status, user_id=user.id if user else None))
        if progress is not None:
            session.add(Enrollment(user_id=user.id, course_id=course.id,
                                   started_at=datetime(2026, 5, 10, tzinfo=UTC),
                                   completed_at=None if progress == "started" else progress))
    officer = people.new_user(issuer="https://idp.test", subject=f"{prefix}-officer",
                              full_name="Cán Bộ Xã")
    admin = people.new_user(issuer="https://idp.test", subject=f"{prefix}-admin",
                            full_name="Quản Trị Trường")
    session.flush()
    people.grant_role(None, role=Role.OFFICER, unit_code=COMMUNE, user_id=officer.id)
    people.grant_role(None, role=Role.UNIT_ADMIN, unit_code=school.code, user_id=admin.id)
    session.flush()
    return {"officer": officer, "admin": admin, "school": school}


def expected_csv(today: date) -> bytes:
    late = today > DUE
    words = people_export.state_words()
    header = ",".join(people_export.header())
    klass = '"\'=HYPERLINK(""x"")"'  # neutralised, then quoted (RFC 4180)
    rows = [
        f"{klass},Trường Một,'+Lò Văn Pá,0082****0101,05/09/2012,"
        f"TEST-ATGT,{words['completed']},21/05/2026",
        f"{klass},Trường Một,Nguyễn Thị Mai,0083****0102,05/09/2012,"
        f"TEST-ATGT,{words['overdue' if late else 'in_progress']},",
        f"Lớp B,Trường Một,Trần Văn Bình,0082****0103,05/09/2012,TEST-ATGT,{words['exempt']},",
        f"Lớp B,Trường Một,Hà Văn Dũng,0082****0105,05/09/2012,TEST-ATGT,"
        f"{words['overdue' if late else 'not_started']},",
    ]
    return ("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def run_export(actor, code: str, today: date, courses=()) -> bytes:
    export = people_export.export_for(actor, code, list(courses), today)
    connection = session.connection()
    return b"".join(people_export.stream_csv(connection.connection.driver_connection,
                                             connection.dialect.name, export))


@pytest.fixture
def data(db, tmp_path):
    built = build(tmp_path, "PX")
    built["officer"].session_level = 2
    built["admin"].session_level = 2
    return built


@pytest.mark.parametrize("today", [BEFORE_DUE, AFTER_DUE])
def test_people_csv_hand_computed(data, today):
    body = run_export(data["officer"], COMMUNE, today, ["TEST-ATGT"])
    assert body == expected_csv(today)
    text = body.decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\r\n") == 5 and "\n" not in text.replace(
        "\r\n", "")
    assert not re.search(r"\d{12}", text)  # masked IDs only
    assert "Lê Thị Hoa" not in text  # left the roster
    assert "\r\n\"'=HYPERLINK" in text and ",'+Lò Văn Pá," in text


def test_no_course_means_every_assigned_course(data):
    # counters are what lists the assigned courses; none are kept in this fixture's writes
    from enrollment.reports import counters

    counters.refresh_subtree(data["school"])
    assert run_export(data["officer"], "PX-S", AFTER_DUE) == expected_csv(AFTER_DUE)


def test_streamed_route_gives_the_same_bytes(client, data):
    login(client, data["officer"])
    response = client.get(f"/units/{COMMUNE}/people.csv?course=TEST-ATGT")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="people-00691.csv"' in response.headers["Content-Disposition"]
    from enrollment.assignments.queries import today_local

    assert response.data == expected_csv(today_local())


def test_school_admin_sees_own_school_but_not_the_commune(client, data):
    login(client, data["admin"])
    assert client.get("/units/PX-S/people.csv").status_code == 200
    assert client.get(f"/units/{COMMUNE}/people.csv").status_code == 404


def test_officer_of_another_province_gets_404(client, data, make):
    other = make.person(Role.OFFICER, find_unit_by_code("01"))
    login(client, other)
    assert client.get(f"/units/{COMMUNE}/people.csv").status_code == 404
    assert client.get("/units/PX-S/people.csv").status_code == 404
    assert client.get("/units/PX-S-A/people.csv").status_code == 404


def test_bad_query_is_refused(client, data):
    login(client, data["officer"])
    assert client.get(f"/units/{COMMUNE}/people.csv?course=%3Dx").status_code == 422
    assert client.get(f"/units/{COMMUNE}/people.csv?id=1").status_code == 422


# The job path needs real commits (the job runs in another thread, after the request commits).


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def committed(request, tmp_path_factory):
    from tests.lms.test_jobs import fresh_app, fresh_database

    url = fresh_database(request, tmp_path_factory, "px")
    app = fresh_app(url, tmp_path_factory.mktemp("px-storage"))
    with app.app_context(), transaction():
        load_official_units()
        built = build(tmp_path_factory.mktemp("px-pkg"), "PJ")
        ids = {"officer": built["officer"].id, "admin": built["admin"].id}
    yield app, ids
    assert jobs.wait_all(WAIT, app=app)
    get_db(app).dispose()




def test_a_large_export_is_a_job_whose_download_is_the_same_file(committed):
    app, ids = committed
    officer = signed_in_client(app, ids["officer"])
    url = f"/units/{COMMUNE}/people.csv?course=TEST-ATGT"
    app.config["PEOPLE_EXPORT_SYNC_MAX"] = 1_000_000
    streamed = officer.get(url)
    assert streamed.status_code == 200 and streamed.data.count(b"\r\n") == 5
    app.config["PEOPLE_EXPORT_SYNC_MAX"] = 0
    try:
        response = officer.get(url)
    finally:
        app.config["PEOPLE_EXPORT_SYNC_MAX"] = people_export.SYNC_MAX
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[^/]+", job_url)
    assert jobs.wait_all(WAIT, app=app)
    assert officer.get(job_url).status_code == 200
    download = officer.get(f"{job_url}/download")
    assert download.status_code == 200
    assert download.data == streamed.data
    # only for its requester: the school admin (signed in, same data) and anonymous get 404
    admin = signed_in_client(app, ids["admin"])
    assert admin.get(f"{job_url}/download").status_code == 404
    assert admin.get(job_url).status_code == 404
    assert app.test_client().get(f"{job_url}/download").status_code == 404
