"""A unit's certificates as one ZIP: the valid ones only (a revoked one is left out), each PDF
under `<unit code>/<serial>.pdf` with the right name and serial inside, the list as PDF and CSV
with every name, serial and code; the same bytes on a second download; 404 out of scope and
for a learner; above CERTIFICATE_ZIP_SYNC_MAX a job whose download (its requester's only) is
the same ZIP; the API always queues the job."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile

import pytest
from sqlalchemy import select

from certificates import service as certificates
from certificates import unit_zip
from certificates.models import Certificate
from courses.models import Course
from courses.service import import_package
from enrollment import service as enrollment_service
from lms import jobs
from lms.db import get_db, session, transaction
from lms.people import service as people
from lms.people.models import Role, User
from lms.units import service as units
from lms.units.models import UnitKind
from lms.units.queries import find_unit_by_code
from lms.units.service import load_official_units
from tests.courses.package_factory import write_package
from tests.lms.test_jobs import WAIT, fresh_app, fresh_database
from tests.support.factories import csrf_headers, login, signed_in_client

COMMUNE = "00691"
NAMES = ["Nguyễn Thị Ánh Tuyết", "Lò Văn Pá", "Hoàng Đức Thịnh"]  # the last one is revoked


def build(tmp_path, prefix: str) -> dict:
    """School <prefix>-S (class 6A, three learners who completed TEST-ATGT, the third one's
    certificate revoked), its admin, a learner's account and another school's admin."""
    if session.execute(select(Course).where(Course.code == "TEST-ATGT")).first() is None:
        import_package(write_package(tmp_path / f"pkg-{prefix}"))
    commune = find_unit_by_code(COMMUNE)
    school = units.new_unit(f"{prefix}-S", "Trường Tiểu học Zip", UnitKind.SCHOOL, commune)
    klass = units.new_unit(f"{prefix}-S-6A", "Lớp 6A", UnitKind.CLASS, school)
    other = units.new_unit(f"{prefix}-T", "Trường Khác", UnitKind.SCHOOL, commune)
    session.flush()

    def person(name: str, role: Role, unit) -> User:
        user = people.new_user(issuer="https://idp.test", subject=f"{prefix}-{name}",
                               full_name=name)
        session.flush()
        people.grant_role(None, role=role, unit_code=unit.code, user_id=user.id)
        user.session_level = 2
        return user

    certs = []
    learners = []
    for name in NAMES:
        learner = person(name, Role.LEARNER, klass)
        enrolment = enrollment_service.enroll(learner, "TEST-ATGT")
        enrollment_service._complete(enrolment)
        certs.append(session.execute(select(Certificate).where(
            Certificate.enrollment_id == enrolment.id)).scalar_one())
        learners.append(learner)
    certificates.revoke(certs[2], "Cấp nhầm", None)
    admin = person("Hiệu Trưởng", Role.UNIT_ADMIN, school)
    other_admin = person("Hiệu Trưởng Khác", Role.UNIT_ADMIN, other)
    session.flush()
    return {"school": school, "class": klass, "certs": certs, "admin": admin,
            "other_admin": other_admin, "learner": learners[0]}


def text_of(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def check_zip(data: bytes, prefix: str, certs: list[Certificate]) -> None:
    """Entries, each PDF's name and serial, and the list (PDF and CSV) of the valid ones."""
    valid, revoked = certs[:2], certs[2]
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    expected = {f"{prefix}-S/{c.serial}.pdf" for c in valid}
    assert names[:2] == [unit_zip.LIST_PDF, unit_zip.LIST_CSV]
    assert set(names[2:]) == expected and len(names) == 4
    for info in archive.infolist():
        assert info.date_time == unit_zip.ENTRY_TIME
        if info.filename.endswith(".pdf"):
            assert info.compress_type == zipfile.ZIP_STORED
    for cert in valid:
        pdf = archive.read(f"{prefix}-S/{cert.serial}.pdf")
        assert pdf == certificates.pdf_bytes(cert)  # the stored document, byte for byte
        text = text_of(pdf)
        assert cert.full_name in text and cert.serial in text
    listing = text_of(archive.read(unit_zip.LIST_PDF))
    compact = re.sub(r"\s", "", listing)
    for cert in valid:
        assert cert.full_name in listing and cert.serial in listing
        assert cert.code in compact
    assert revoked.full_name not in listing and revoked.serial not in listing
    assert revoked.code not in compact
    raw = archive.read(unit_zip.LIST_CSV)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 3  # header and two certificates
    assert {(r[1], r[4], r[5]) for r in rows[1:]} == {(c.full_name, c.serial, c.code)
                                                      for c in valid}
    assert all(r[7] == f"{prefix}-S" for r in rows[1:])


# In the request: the session app, one rolled-back transaction per test.


@pytest.fixture
def data(db, make, tmp_path):
    return build(tmp_path, "UZ")


def post_zip(client, code: str):
    return client.post(f"/units/{code}/certificates.zip", headers=csrf_headers(client))


def test_admin_downloads_the_valid_certificates_of_the_school(client, data):
    login(client, data["admin"])
    page = client.get("/units/UZ-S/certificates")
    assert page.status_code == 200 and 'action="/units/UZ-S/certificates.zip"' in page.text
    first = post_zip(client, "UZ-S")
    assert first.status_code == 200, first.data[:300]
    assert first.mimetype == "application/zip"
    assert "filename=certificates-UZ-S.zip" in first.headers["Content-Disposition"]
    check_zip(first.data, "UZ", data["certs"])
    second = post_zip(client, "UZ-S")  # the PDFs are kept now: the same bytes
    assert second.status_code == 200 and second.data == first.data


def test_a_class_gives_the_certificates_of_its_learners(client, data):
    login(client, data["admin"])
    response = post_zip(client, "UZ-S-6A")
    assert response.status_code == 200
    check_zip(response.data, "UZ", data["certs"])


def test_out_of_scope_is_404(client, data):
    login(client, data["other_admin"])
    assert post_zip(client, "UZ-S").status_code == 404
    assert post_zip(client, "UZ-S-6A").status_code == 404
    assert post_zip(client, "UZ-T").status_code == 200  # their own school: an empty list
    assert client.get("/units/UZ-S/certificates").status_code == 404


def test_a_learner_gets_404(client, data):
    login(client, data["learner"])
    assert post_zip(client, "UZ-S").status_code == 404
    assert post_zip(client, "UZ-S-6A").status_code == 404
    response = client.post("/api/v1/units/UZ-S/certificates/zip",
                           headers=csrf_headers(client))
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_anonymous_and_no_csrf_are_refused(client, data):
    assert post_zip(client, "UZ-S").status_code in (302, 401)  # to the sign-in page
    login(client, data["admin"])
    assert client.post("/units/UZ-S/certificates.zip").status_code == 400  # no CSRF token


def test_an_empty_unit_gives_an_empty_list(client, data):
    login(client, data["other_admin"])
    response = post_zip(client, "UZ-T")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [unit_zip.LIST_PDF, unit_zip.LIST_CSV]


# Above the threshold: a job. It runs in another thread after the request commits, so real
# commits on a fresh database of each engine (see tests/lms/test_jobs.py).


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def committed(request, tmp_path_factory):
    url = fresh_database(request, tmp_path_factory, "unit_zip")
    app = fresh_app(url, tmp_path_factory.mktemp("unit-zip-storage"))
    with app.app_context(), transaction():
        load_official_units()
        built = build(tmp_path_factory.mktemp("unit-zip-pkg"), "JZ")
        ids = {k: built[k].id for k in ("admin", "other_admin", "learner")}
        ids["certs"] = [c.id for c in built["certs"]]
    yield app, ids
    assert jobs.wait_all(WAIT, app=app)
    get_db(app).dispose()




def certs_of(app, ids) -> list[Certificate]:
    with app.app_context():
        found = [session.get(Certificate, i) for i in ids]
        for cert in found:
            session.expunge(cert)
        return found


def test_a_large_unit_is_a_job_with_the_same_zip_for_its_requester_only(committed):
    app, ids = committed
    admin = signed_in_client(app, ids["admin"])
    app.config["CERTIFICATE_ZIP_SYNC_MAX"] = 1
    try:
        response = admin.post("/units/JZ-S/certificates.zip", headers=csrf_headers(admin))
    finally:
        app.config["CERTIFICATE_ZIP_SYNC_MAX"] = unit_zip.SYNC_MAX
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[^/]+", job_url)
    assert jobs.wait_all(WAIT, app=app)
    status = admin.get(f"/api/v1{job_url}").get_json()
    assert status["status"] == "done", status
    assert status["result"]["rows"] == 2 and "file" not in status["result"]
    download = admin.get(f"{job_url}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with app.app_context():
        check_zip(download.data, "JZ", certs_of(app, ids["certs"]))
    # the PDFs the job rendered were kept: the request path now gives the same bytes
    direct = admin.post("/units/JZ-S/certificates.zip", headers=csrf_headers(admin))
    assert direct.status_code == 200 and direct.data == download.data
    # only for its requester
    other = signed_in_client(app, ids["other_admin"])
    assert other.get(f"{job_url}/download").status_code == 404
    assert other.get(job_url).status_code == 404
    assert app.test_client().get(f"{job_url}/download").status_code == 404


def test_the_api_always_queues_a_job(committed):
    app, ids = committed
    admin = signed_in_client(app, ids["admin"])
    response = admin.post("/api/v1/units/JZ-S/certificates/zip", headers=csrf_headers(admin))
    assert response.status_code == 202, response.data[:300]
    body = response.get_json()
    assert body["status"] == "queued" and body["kind"] == unit_zip.JOB_KIND
    assert body["status_url"] == f"/jobs/{body['id']}" == response.headers["Location"]
    assert jobs.wait_all(WAIT, app=app)
    done = admin.get(f"/api/v1/jobs/{body['id']}").get_json()
    assert done["status"] == "done" and done["download_url"]
    download = admin.get(done["download_url"])
    with app.app_context():
        check_zip(download.data, "JZ", certs_of(app, ids["certs"]))
    # another school's admin and a learner: 404, nothing queued
    for user_id in (ids["other_admin"], ids["learner"]):
        client = signed_in_client(app, user_id)
        refused = client.post("/api/v1/units/JZ-S/certificates/zip",
                              headers=csrf_headers(client))
        assert refused.status_code == 404
