"""PostgreSQL goes away under the two-node cluster: requests get a clean 503 (our JSON error shape
or our HTML page, with Retry-After), the nodes serve again on their own once it is back (pool
pre-ping), and a short locust run with a restart in the middle loses nothing it acknowledged
(bench/load.py: `make load --fault postgres` at full size)."""

from __future__ import annotations

import sqlite3
import time

import pytest
import requests

from bench.cluster import start_cluster
from bench.load import run_load
from bench.load_journey import sign_in
from tests.lms.test_cluster import COURSE_CODE, prepare_small

LEARNERS = 20


@pytest.mark.parametrize("path", ["/api/v1/me", "/learn/"])
def test_a_lost_database_connection_is_a_503_with_retry_after(app, db, path):
    """In a view, or at the request's commit (Flask wraps that one in a 500): the same 503,
    JSON under /api/, our page elsewhere. A query's own error stays a 500."""
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from werkzeug.exceptions import InternalServerError

    from lms.errors import _handle_internal_error

    lost = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    with app.test_request_context(path):
        for response in (app.handle_user_exception(lost),
                         _handle_internal_error(InternalServerError(original_exception=lost))):
            assert response.status_code == 503 and response.headers["Retry-After"] == "5"
            if path.startswith("/api/"):
                assert response.get_json()["code"] == "service_unavailable"
            else:
                assert response.mimetype == "text/html"
        bug = ProgrammingError("SELEC 1", {}, Exception("syntax error"))
        assert app.handle_user_exception(bug).status_code == 500
        missing = OperationalError("SELECT * FROM nope", {},
                                   sqlite3.OperationalError("no such table: nope"))
        assert app.handle_user_exception(missing).status_code == 500  # a bug, not an outage
        busy = OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
        assert app.handle_user_exception(busy).status_code == 503


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # Its own PostgreSQL server (the test restarts it), its own Redis; no Celery worker.
    running = start_cluster(prepare=prepare_small(LEARNERS + 1, tmp_path_factory.mktemp("c")),
                            worker=False, web_workers=1, web_threads=8,
                            config={"RATELIMIT_SIGNIN": "100000 per minute"})
    yield running
    running.stop()


def test_requests_during_an_outage_get_a_clean_503_and_the_nodes_recover(cluster):
    a, b = cluster.urls
    http = requests.Session()
    sign_in(http, a, f"load-{LEARNERS + 1:04d}")  # not one of the locust learners
    assert http.get(f"{b}/api/v1/me", timeout=30).status_code == 200
    cluster.pg_ctl("stop", "-m", "fast")
    try:
        for base in (a, b):
            api = http.get(f"{base}/api/v1/me", timeout=30)
            assert api.status_code == 503, api.text
            assert api.json() == {"code": "service_unavailable", "status": 503,
                                  "message": api.json()["message"]}
            assert api.headers["Retry-After"] == "5"
            page = http.get(f"{base}/learn/{COURSE_CODE}", timeout=30)
            assert page.status_code == 503 and page.headers["Retry-After"] == "5"
            assert page.headers["Content-Type"].startswith("text/html")
            assert "<html" in page.text.lower()
            assert http.get(f"{base}/readyz", timeout=30).status_code == 503
            assert http.get(f"{base}/healthz", timeout=30).status_code == 200
    finally:
        cluster.pg_ctl("restart")  # starts it again with its original options
    deadline = time.monotonic() + 60  # generous: the nodes are not restarted, only retried
    answers: list[int] = []
    while time.monotonic() < deadline:
        answers = [http.get(f"{base}/api/v1/me", timeout=30).status_code for base in (a, b)]
        if answers == [200, 200]:
            break
        assert set(answers) <= {200, 503}
        time.sleep(0.2)
    assert answers == [200, 200]


def test_a_restart_during_the_load_loses_nothing_acknowledged(cluster):
    report = run_load(cluster, users=LEARNERS, run_time=20, spawn_rate=LEARNERS,
                      fault="postgres", fault_at=8, wait=(0.5, 1.5))
    assert report.fault is not None and report.fault.error is None
    assert report.fault.recovered_after is not None  # both nodes served again, unrestarted
    assert report.errors == 0, report.error_samples
    assert report.problems == []
    assert sum(report.lost.values()) == 0 and sum(report.duplicated.values()) == 0
    # the journey went through: reads, attempts and passed quizzes were acknowledged
    assert report.acked.get("lesson reads", 0) > 0
    assert report.acked.get("attempts", 0) > 0 and report.acked.get("completions", 0) > 0
