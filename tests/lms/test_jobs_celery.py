"""Jobs through Celery: a real redis-server and a real worker process (`celery -A
lms.jobs.worker worker`) on the same database and storage as the app. A missing
redis-server or celery fails the run (it never skips)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lms import jobs
from lms.db import get_db
from lms.jobs.models import JobStatus
from tests.lms.jobs_fixture import SECRET
from tests.lms.test_jobs import (
    fresh_app,
    fresh_database,
    load,
    prefix,
    signed_in,
    submit,
    unit_exists,
)
from tests.support.redis_server import RedisUnavailable, start_redis

ROOT = Path(__file__).resolve().parents[2]
WAIT = 180  # seconds; only keeps a broken run from hanging, never a performance assertion


def unavailable(reason: str):
    # `make test` installs redis-server and Celery: a missing one is a broken set-up, never a
    # reason to skip (the PostgreSQL harness does the same).
    pytest.fail(reason)


@pytest.fixture(scope="module")
def redis_server():
    try:
        server = start_redis()
    except RedisUnavailable as exc:
        unavailable(str(exc))
    yield server
    server.stop()


def celery_command() -> list[str]:
    found = Path(sys.executable).with_name("celery")
    if not found.exists():
        found = shutil.which("celery")
        if not found:
            unavailable("celery is not installed (pip install -e '.[dev]')")
    return [str(found), "-A", "lms.jobs.worker", "worker", "--pool", "solo",
            "--concurrency", "1", "--loglevel", "INFO", "--without-gossip",
            "--without-mingle", "--without-heartbeat"]


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def worker_app(request, redis_server, tmp_path_factory):
    """The app (submitting to Redis) and a worker process sharing its database and storage."""
    url = fresh_database(request, tmp_path_factory, "celery")
    storage = tmp_path_factory.mktemp("celery-storage")
    broker = redis_server.url(1 if request.param == "sqlite" else 0)
    app = fresh_app(url, storage, BROKER_URL=broker)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_BROKER_URL=broker, LMS_DATABASE_URL=url, LMS_STORAGE_DIR=str(storage),
               LMS_SECRET_KEY=app.config["SECRET_KEY"], LMS_JOB_MODULES="tests.lms.jobs_fixture",
               LMS_CONFIG_FILE=str(storage / "no-config-file.toml"),
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    log_path = storage.parent / f"worker-{request.param}.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(celery_command(), cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    app.config["TEST_WORKER"] = (worker, log_path)
    yield app
    worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the current job, then exit
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)
    get_db(app).dispose()


def wait_finished(app, job_id):
    worker, log_path = app.config["TEST_WORKER"]
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = load(app, job_id)
        if job is not None and job.is_finished:
            return job
        if worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}):\n{log_path.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not finish; worker log:\n{log_path.read_text()}")


def test_the_worker_runs_a_submitted_job_and_the_app_serves_its_file(worker_app):
    client, user_id = signed_in(worker_app)
    code = prefix()
    response, job_id = submit(client, prefix=code)
    assert response.status_code == 202
    assert jobs.wait_all(0, app=worker_app)  # nothing ran in this process
    job = wait_finished(worker_app, job_id)
    assert job.status is JobStatus.DONE, job.error
    assert job.result["rows"] == 1 and job.result["by"] == user_id
    assert unit_exists(worker_app, f"{code}-BY-JOB")
    body = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["status"] == "done"
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download.data == f"\ufeffcode\r\n{code}-BY-JOB\r\n".encode()
    assert download.mimetype == "text/csv"


def test_a_job_failing_in_the_worker_is_recorded_safely(worker_app):
    client, _ = signed_in(worker_app)
    code = prefix()
    _, job_id = submit(client, prefix=code, fail="crash")
    job = wait_finished(worker_app, job_id)
    assert job.status is JobStatus.FAILED
    assert job.error.startswith("Công việc không thực hiện được.")
    assert SECRET not in job.error
    assert not unit_exists(worker_app, f"{code}-BY-JOB")
