"""Jobs in process (no broker): dispatched only after the submitting request commits, run in
their own transactions, failures recorded safely, results for their requester only.

These tests need real commits (a job thread has its own connection and cannot see the rolled-
back test transaction), so they use an app on a fresh database of each engine."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from alembic import command
from flask import request

from lms import jobs
from lms.app import create_app
from lms.auth.service import open_session
from lms.cli import alembic_config
from lms.db import get_db, session, transaction, utcnow
from lms.jobs.models import Job, JobStatus
from lms.people.models import User
from lms.people.service import new_user
from lms.security import acting_user, csrf
from lms.units.queries import find_unit_by_code
from tests.conftest import TEST_CONFIG, RequestClient
from tests.lms.jobs_fixture import SECRET

WAIT = 120  # seconds; only keeps a broken run from hanging, never a performance assertion


def fresh_database(request, tmp_path_factory, name: str) -> str:
    """A new empty database of the fixture's engine (request.param: sqlite | postgresql)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database(f"hocvuso_{name}")


def fresh_app(url: str, storage, **config):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "STORAGE_DIR": str(storage),
                      "JOB_MODULES": "tests.lms.jobs_fixture", **config})
    with app.app_context():
        command.upgrade(alembic_config(url), "head")

    @app.post("/_test/export")
    @csrf.exempt
    def _submit():  # a feature's view would do exactly this: submit, then answer
        job = jobs.submit("tests.export_units", user=acting_user(),
                          prefix=request.args["prefix"], fail=request.args.get("fail"))
        if request.args.get("refuse"):
            return {"id": job.id}, 422  # an error answer: the request rolls back
        return {"id": job.id}, 202

    app.test_client_class = RequestClient
    return app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def jobs_app(request, tmp_path_factory):
    url = fresh_database(request, tmp_path_factory, "jobs")
    app = fresh_app(url, tmp_path_factory.mktemp("storage"))
    yield app
    assert jobs.wait_all(WAIT, app=app)
    get_db(app).dispose()


def signed_in(app, name="Nguyễn Văn An"):
    """A committed user and a client carrying a real server-side session of theirs."""
    with app.app_context(), transaction():
        user = new_user(issuer="https://idp.test", subject=secrets.token_hex(8), full_name=name)
        session.flush()
        token = open_session(user, 2)
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = token
        cookie["_fresh"] = True
    return client, user_id


def load(app, job_id) -> Job | None:
    with app.app_context():
        job = session.get(Job, job_id)
        if job is not None:
            session.expunge(job)  # keeps its loaded values once the context closes
        return job


def unit_exists(app, code) -> bool:
    with app.app_context():
        return find_unit_by_code(code) is not None


def prefix() -> str:
    return "J" + secrets.token_hex(4).upper()


def submit(client, **args):
    response = client.post("/_test/export", query_string=args)
    return response, (response.get_json() or {}).get("id")


def test_a_job_runs_after_the_request_commits_and_its_requester_gets_the_result(jobs_app):
    client, user_id = signed_in(jobs_app)
    code = prefix()
    response, job_id = submit(client, prefix=code)
    assert response.status_code == 202
    assert jobs.wait_all(WAIT, app=jobs_app)

    job = load(jobs_app, job_id)
    assert job.status is JobStatus.DONE, job.error
    assert job.requested_by_id == user_id and job.error is None
    assert job.started_at <= job.finished_at
    assert job.expires_at == job.finished_at + timedelta(hours=24)
    assert unit_exists(jobs_app, f"{code}-BY-JOB")  # the job's own writes were committed

    body = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["status"] == "done" and body["expired"] is False
    assert body["result"]["rows"] == 1 and "file" not in body["result"]
    assert body["download_url"] == f"/jobs/{job_id}/download"

    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert "Đã xong" in page.text and "Tải xuống" in page.text
    assert "Done" in client.get(f"/jobs/{job_id}?lang=en").text

    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download.data == f"\ufeffcode\r\n{code}-BY-JOB\r\n".encode()
    assert download.mimetype == "text/csv"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%C4%91%C6%A1n" in disposition
    assert download.headers["Cache-Control"] == "no-store"


def test_a_rolled_back_request_dispatches_nothing(jobs_app):
    client, _ = signed_in(jobs_app)
    code = prefix()
    response, job_id = submit(client, prefix=code, refuse="1")
    assert response.status_code == 422 and job_id
    assert jobs.wait_all(WAIT, app=jobs_app)
    assert load(jobs_app, job_id) is None
    assert not unit_exists(jobs_app, f"{code}-BY-JOB")
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 404


def test_a_crashing_job_fails_with_a_safe_message_and_keeps_none_of_its_writes(jobs_app):
    client, _ = signed_in(jobs_app)
    code = prefix()
    _, job_id = submit(client, prefix=code, fail="crash")
    assert jobs.wait_all(WAIT, app=jobs_app)
    job = load(jobs_app, job_id)
    assert job.status is JobStatus.FAILED and job.result is None
    assert job.error.startswith("Công việc không thực hiện được.")  # the requester's language
    assert SECRET not in job.error and "Traceback" not in job.error
    assert not unit_exists(jobs_app, f"{code}-BY-JOB")

    body = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["status"] == "failed" and body["error"] == job.error
    assert body["download_url"] is None
    page = client.get(f"/jobs/{job_id}")
    assert "Thất bại" in page.text and SECRET not in page.text
    assert client.get(f"/jobs/{job_id}/download").status_code == 409


def test_a_refusing_job_shows_the_services_own_message(jobs_app):
    client, _ = signed_in(jobs_app)
    code = prefix()
    _, job_id = submit(client, prefix=code, fail="refuse")
    assert jobs.wait_all(WAIT, app=jobs_app)
    job = load(jobs_app, job_id)
    assert (job.status, job.error) == (JobStatus.FAILED, "Tệp có 3 dòng sai.")
    assert not unit_exists(jobs_app, f"{code}-BY-JOB")


def test_only_the_requester_sees_a_job(jobs_app):
    owner, _ = signed_in(jobs_app)
    _, job_id = submit(owner, prefix=prefix())
    assert jobs.wait_all(WAIT, app=jobs_app)
    assert owner.get(f"/jobs/{job_id}/download").status_code == 200
    other, _ = signed_in(jobs_app, "Lò Thị Sình")
    anonymous = jobs_app.test_client()
    for client in (other, anonymous):
        for url in (f"/jobs/{job_id}", f"/api/v1/jobs/{job_id}", f"/jobs/{job_id}/download"):
            response = client.get(url)
            assert response.status_code == 404, (url, response.status_code)
    assert other.get(f"/api/v1/jobs/{job_id}").get_json()["code"] == "not_found"
    assert owner.get(f"/api/v1/jobs/{'x' * 500}").status_code == 404


def test_an_expired_download_is_gone(jobs_app):
    client, _ = signed_in(jobs_app)
    _, job_id = submit(client, prefix=prefix())
    assert jobs.wait_all(WAIT, app=jobs_app)
    with jobs_app.app_context(), transaction():
        session.get(Job, job_id).expires_at = utcnow() - timedelta(seconds=1)
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 410
    assert "Liên kết tải xuống đã hết hạn" in download.text
    body = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["expired"] is True and body["download_url"] is None
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and 'id="job-expired"' in page.text
    assert 'id="job-download"' not in page.text


def test_an_unfinished_job_page_refreshes_and_has_nothing_to_download(jobs_app):
    client, user_id = signed_in(jobs_app)
    with jobs_app.app_context(), transaction():  # queued but never dispatched
        job = Job(kind="tests.export_units", requested_by_id=user_id, params={}, locale="vi",
                  status=JobStatus.QUEUED, created_at=utcnow())
        session.add(job)
        session.flush()
        job_id = job.id
    assert len(job_id) == 32 and job_id.replace("-", "").replace("_", "").isalnum()
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and page.headers["Refresh"] == "3"
    assert "Đang chờ" in page.text and "<script" not in page.text
    assert client.get(f"/jobs/{job_id}/download").status_code == 409


def test_a_command_runs_its_job_once_it_commits(jobs_app):
    _, user_id = signed_in(jobs_app)
    code = prefix()
    with jobs_app.app_context():
        with transaction():
            job = jobs.submit("tests.export_units", user=session.get_one(User, user_id),
                                prefix=code)
            job_id = job.id
        # outside a request the job ran as soon as the command committed
        assert load(jobs_app, job_id).status is JobStatus.DONE
        assert unit_exists(jobs_app, f"{code}-BY-JOB")
    with jobs_app.app_context(), pytest.raises(RuntimeError), transaction():
        rolled = jobs.submit("tests.export_units", user=session.get_one(User, user_id),
                             prefix=prefix())
        rolled_id = rolled.id
        raise RuntimeError("the command fails after submitting")
    assert load(jobs_app, rolled_id) is None


def test_an_unknown_kind_is_refused_at_submit(jobs_app):
    _, user_id = signed_in(jobs_app)
    with jobs_app.app_context(), pytest.raises(KeyError):
        jobs.submit("no.such.kind", user=type("U", (), {"id": user_id})())
