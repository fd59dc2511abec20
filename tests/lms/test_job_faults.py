"""Jobs under faults. The sweep (lms/jobs/recovery.py) on both engines: a running job whose
lease lapsed runs again, then fails after JOB_MAX_ATTEMPTS runs; a queued job past its
deadline is sent again. With a real redis-server and a real Celery worker (PostgreSQL, as in
production): Redis stopped, learners are served, a submitted job stays queued saying why and
runs once Redis is back; a worker killed (SIGKILL) mid-export is taken back and the job runs
again, and half a file is never served."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from types import SimpleNamespace

import flask
import pytest

from lms import jobs
from lms.db import get_db, session, transaction, utcnow
from lms.jobs.models import Job, JobStatus
from lms.jobs.recovery import sweep
from lms.security import acting_user, csrf
from tests.lms.job_faults_fixture import expected_csv
from tests.lms.test_jobs import (
    fresh_app,
    fresh_database,
    load,
    prefix,
    signed_in,
    submit,
    unit_exists,
)
from tests.lms.test_jobs_celery import ROOT, celery_command
from tests.support.redis_server import RedisUnavailable, start_redis

WAIT = 90  # seconds; only keeps a broken run from hanging, never a performance assertion
MODULES = "tests.lms.jobs_fixture,tests.lms.job_faults_fixture"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def local_app(request, tmp_path_factory):
    app = fresh_app(fresh_database(request, tmp_path_factory, "faults"),
                    tmp_path_factory.mktemp("faults-storage"), JOB_MODULES=MODULES,
                    JOB_MAX_ATTEMPTS=2)
    yield app
    assert jobs.wait_all(WAIT, app=app)
    get_db(app).dispose()


def add_job(app, user_id, status, *, expires_in, **fields):
    with app.app_context(), transaction():
        job = Job(kind="tests.export_units", requested_by_id=user_id, locale="en",
                  status=status, created_at=utcnow() - timedelta(hours=1),
                  expires_at=utcnow() + timedelta(seconds=expires_in), **fields)
        session.add(job)
        session.flush()
        return job.id


def test_a_job_whose_worker_died_runs_again_then_gives_up(local_app):
    _, user_id = signed_in(local_app)
    code = prefix()
    started = utcnow() - timedelta(minutes=5)
    lost = add_job(local_app, user_id, JobStatus.RUNNING, expires_in=-1, started_at=started,
                   params={"prefix": code})
    alive = add_job(local_app, user_id, JobStatus.RUNNING, expires_in=60, started_at=started,
                    params={"prefix": prefix()})
    counts = sweep(local_app)
    assert counts["requeued"] == 1 and counts["dispatched"] == 1
    assert jobs.wait_all(WAIT, app=local_app)
    job = load(local_app, lost)
    assert job.status is JobStatus.DONE and job.error is None and job.result["rows"] == 1
    assert unit_exists(local_app, f"{code}-BY-JOB")
    assert load(local_app, alive).status is JobStatus.RUNNING  # its lease holds: untouched

    # Interrupted again on its last allowed run (JOB_MAX_ATTEMPTS=2): it fails, and says so.
    again = add_job(local_app, user_id, JobStatus.RUNNING, expires_in=-1, started_at=started,
                    params={"prefix": prefix()}, result={"interrupted": 1})
    assert sweep(local_app)["failed"] == 1
    job = load(local_app, again)
    assert job.status is JobStatus.FAILED and job.result is None and job.finished_at
    assert job.error.startswith("The job was interrupted several times")
    assert sweep(local_app)["failed"] == 0  # done once


def test_a_queued_job_past_its_deadline_is_sent_again(local_app):
    _, user_id = signed_in(local_app)
    code = prefix()
    stranded = add_job(local_app, user_id, JobStatus.QUEUED, expires_in=-1,
                       params={"prefix": code}, error="The job queue is unavailable")
    waiting = add_job(local_app, user_id, JobStatus.QUEUED, expires_in=600,
                      params={"prefix": prefix()})
    assert sweep(local_app)["dispatched"] >= 1
    assert jobs.wait_all(WAIT, app=local_app)
    job = load(local_app, stranded)
    assert job.status is JobStatus.DONE and job.error is None
    assert load(local_app, waiting).status is JobStatus.QUEUED


# --- a real Redis and a real worker ----------------------------------------------------------

def restart_redis(server) -> None:
    """Start redis-server again on the same port (a restart, as systemd would do it)."""
    server.process = subprocess.Popen(
        [*server.process.args], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(server.url(), socket_timeout=1).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    pytest.fail("redis-server did not restart")


def stop_redis(server) -> None:
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def faults(request, tmp_path_factory):
    """PostgreSQL, Redis, the app and one worker; `start_worker()` starts another."""
    try:
        redis_server = start_redis()
    except RedisUnavailable as exc:  # make test installs redis-server: never a skip
        pytest.fail(str(exc))
    postgresql = SimpleNamespace(param="postgresql", getfixturevalue=request.getfixturevalue)
    url = fresh_database(postgresql, tmp_path_factory, "faults_celery")
    storage = tmp_path_factory.mktemp("faults-celery-storage")
    app = fresh_app(url, storage, BROKER_URL=redis_server.url(), JOB_MODULES=MODULES,
                    JOB_HEARTBEAT=1)

    @app.post("/_test/slow")
    @csrf.exempt
    def _slow():
        job = jobs.submit("tests.slow_export", user=acting_user(),
                          marker=flask.request.args["marker"])
        return {"id": job.id}, 202

    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_BROKER_URL=redis_server.url(), LMS_DATABASE_URL=url,
               LMS_STORAGE_DIR=str(storage), LMS_SECRET_KEY=app.config["SECRET_KEY"],
               LMS_JOB_MODULES=MODULES, LMS_JOB_HEARTBEAT="1",
               LMS_CONFIG_FILE=str(storage / "no-config-file.toml"),
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    state = SimpleNamespace(app=app, redis=redis_server, worker=None, logs=[])

    def start_worker():
        log_path = storage.parent / f"faults-worker-{len(state.logs)}.log"
        with log_path.open("wb") as log:
            state.worker = subprocess.Popen(celery_command(), cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        state.logs.append(log_path)

    state.start_worker = start_worker
    start_worker()
    yield state
    if state.worker.poll() is None:
        state.worker.send_signal(signal.SIGTERM)
        try:
            state.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            state.worker.kill()
            state.worker.wait(timeout=10)
    redis_server.stop()
    get_db(app).dispose()


def worker_logs(state) -> str:
    return "\n".join(path.read_text(errors="replace") for path in state.logs)


def wait_for(state, predicate, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen; worker logs:\n{worker_logs(state)}")


def finished(state, job_id):
    return wait_for(state, lambda: (job := load(state.app, job_id)) and job.is_finished and job,
                    f"job {job_id} finishing")


def test_redis_down_learners_are_served_and_a_job_waits_then_runs(faults):
    app = faults.app
    client, _ = signed_in(app)
    code = prefix()
    stop_redis(faults.redis)
    try:
        assert client.get("/learn/assignments").status_code == 200  # a learner's page
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["errors"] == {
            "broker": ["unavailable"]}
        response, job_id = submit(client, prefix=code, lang="en")
        assert response.status_code == 202
        job = load(app, job_id)
        assert job.status is JobStatus.QUEUED
        assert job.error.startswith("The job queue is unavailable at the moment.")
        body = client.get(f"/api/v1/jobs/{job_id}?lang=en").get_json()
        assert body["status"] == "queued" and body["error"] is None
        assert body["notice"] == job.error
        page = client.get(f"/jobs/{job_id}?lang=en")
        assert 'id="job-notice"' in page.text and "queue is unavailable" in page.text
    finally:
        restart_redis(faults.redis)
    # The worker reconnects, its sweep sends the job again, and it runs.
    job = finished(faults, job_id)
    assert job.status is JobStatus.DONE, job.error
    assert unit_exists(app, f"{code}-BY-JOB")
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["notice"] is None


def test_a_worker_killed_mid_export_is_taken_back_and_half_a_file_never_served(
        faults, tmp_path):
    app = faults.app
    client, _ = signed_in(app)
    marker = tmp_path / "half-written"
    response = client.post("/_test/slow", query_string={"marker": str(marker)})
    assert response.status_code == 202
    job_id = response.get_json()["id"]
    wait_for(faults, marker.exists, "the export writing half its file")
    first = load(app, job_id)
    assert first.status is JobStatus.RUNNING
    assert client.get(f"/jobs/{job_id}/download").status_code == 409  # nothing to serve

    faults.worker.send_signal(signal.SIGKILL)  # kill -9, mid-export
    faults.worker.wait(timeout=10)
    assert load(app, job_id).status is JobStatus.RUNNING  # until its lease lapses
    assert client.get(f"/jobs/{job_id}/download").status_code == 409

    faults.start_worker()  # the service manager restarts the worker
    job = finished(faults, job_id)
    assert job.status is JobStatus.DONE, job.error
    assert job.started_at > first.started_at  # a second run
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.data == expected_csv()
