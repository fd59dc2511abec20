"""The stateless web tier: two gunicorn nodes (lms/gunicorn_conf.py) sharing one PostgreSQL, one
Redis and one Celery worker (bench/cluster.py). A learner signed in on node A reads, takes and
submits a quiz with every request alternating between the nodes; a rate limit counted on A
holds on B; signing out on B signs out on A."""

from __future__ import annotations

import json
import random
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from bench.cluster import Cluster, start_cluster
from bench.load_journey import csrf_token, sign_in
from tests.courses.package_factory import COURSE, write_package

SHORT_LESSON_SECONDS = 2  # a test course's lessons count after 2 s (shipped ones: 180-240 s)
COURSE_CODE = COURSE["code"]


def prepare_small(learners: int, package_root: Path):
    """A preparation for start_cluster: the migrations, one school with one class of
    `learners` learners who can sign in at node A's identity provider, and the test course
    package with short lessons. In this process (faster than `flask` commands)."""

    def prepare(cluster: Cluster) -> None:
        from alembic import command

        from courses.service import import_package
        from lms.app import create_app
        from lms.auth.devidp.service import register_citizen
        from lms.cli import alembic_config
        from lms.db import get_db, session, transaction
        from lms.demo.people import synthetic_personal_id
        from lms.people import service as people
        from lms.people.models import Role
        from lms.units import service as units
        from lms.units.models import UnitKind

        course = {**COURSE, "modules": [{**COURSE["modules"][0], "lessons": [
            {**lesson, "min_seconds": SHORT_LESSON_SECONDS}
            for lesson in COURSE["modules"][0]["lessons"]]}]}
        package = write_package(package_root, course=course)
        app = create_app(cluster.app_config())
        try:
            with app.app_context():
                command.upgrade(alembic_config(cluster.database_url), "head")
                with transaction():
                    school = units.new_unit("LOAD-S1", "Trường Tiểu học Thử", UnitKind.SCHOOL,
                                            None)
                    units.new_unit("LOAD-S1-L1", "Lớp 5A", UnitKind.CLASS, school)
                    import_package(package)
                    rng = random.Random(8)
                    for n in range(1, learners + 1):
                        born = date(2014, 1 + n % 12, 1 + n % 28)
                        personal_id = synthetic_personal_id(rng, "008", born, n % 2 == 0, n)
                        user = people.new_user(issuer=cluster.issuer, subject=f"load-{n:04d}",
                                               full_name=f"Học Sinh Số {n}", birth_on=born,
                                               personal_id=personal_id)
                        session.flush()
                        people.grant_role(None, role=Role.LEARNER, unit_code="LOAD-S1-L1",
                                          user_id=user.id)
                        register_citizen(user.subject, user.full_name, born, personal_id,
                                         level=1, description="load test learner")
        finally:
            get_db(app).dispose()

    return prepare


@pytest.fixture(scope="module")
def cluster(postgres_server, tmp_path_factory):
    running = start_cluster(
        postgres=postgres_server, database="hocvuso_cluster_test",
        prepare=prepare_small(2, tmp_path_factory.mktemp("course")), web_workers=1,
        web_threads=4, config={"RATELIMIT_VERIFY": "3 per minute"})
    yield running
    running.stop()


class Alternating:
    """A browser whose requests go to node A, then B, then A ...; the cookie jar is shared
    (one host, 127.0.0.1: cookies do not depend on the port)."""

    def __init__(self, urls: list[str]):
        self.http = requests.Session()
        self.urls = urls
        self.turn = 0
        self.token = ""
        self.seen: list[tuple[str, str, int]] = []

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        base = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        headers = {"X-CSRFToken": self.token} if method != "GET" else {}
        response = self.http.request(method, base + path, headers=headers, timeout=30,
                                     allow_redirects=False, **kwargs)
        self.seen.append((base, path, response.status_code))
        return response


def test_a_learner_alternates_between_two_nodes(cluster):
    a, b = cluster.urls
    browser = Alternating([a, b])
    sign_in(browser.http, a, "load-0001")  # on node A, through its identity provider
    me = browser("GET", "/api/v1/me")  # B
    assert me.status_code == 200 and me.json()["full_name"] == "Học Sinh Số 1"
    assert browser("GET", "/learn/assignments").status_code == 200  # A
    browser.token = csrf_token(browser.http, b)
    progress = browser("POST", f"/api/v1/courses/{COURSE_CODE}/enrollment")  # B
    assert progress.status_code == 200, progress.text
    slugs = [lesson["slug"] for lesson in progress.json()["lessons"]]
    assert slugs == ["bien-bao", "mu-bao-hiem"]
    for slug in slugs:  # A, B: each opening starts the lesson's clock in the shared database
        opened = browser("GET", f"/api/v1/courses/{COURSE_CODE}/lessons/{slug}")
        assert opened.status_code == 200 and opened.json()["read"] is False
    early = browser("POST", f"/api/v1/courses/{COURSE_CODE}/lessons/{slugs[0]}/read")  # A
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"
    page = browser("GET", f"/learn/{COURSE_CODE}/lessons/{slugs[1]}")  # B: the HTML page
    assert page.status_code == 200 and "Mũ bảo hiểm" in page.text
    time.sleep(SHORT_LESSON_SECONDS + 1)  # the reading time itself, on the server's clock
    for slug in slugs:
        read = browser("POST", f"/api/v1/courses/{COURSE_CODE}/lessons/{slug}/read")
        assert read.status_code == 200 and read.json()["read"] is True, read.text

    started = browser("POST", f"/api/v1/courses/{COURSE_CODE}/attempts")
    assert started.status_code == 200, started.text
    attempt = started.json()
    again = browser("POST", f"/api/v1/courses/{COURSE_CODE}/attempts")  # the other node
    assert again.json()["id"] == attempt["id"]  # the running attempt, not a second one
    page = browser("GET", f"/learn/attempts/{attempt['id']}")
    assert page.status_code == 200
    correct = _correct_options(cluster)
    answers = {str(q["position"]): [o["id"] for o in q["options"] if o["id"] in correct]
               for q in attempt["questions"]}
    body = {"idempotency_key": "cluster-test-submit-1", "answers": answers}
    first = browser("POST", f"/api/v1/attempts/{attempt['id']}/submit", json=body)
    second = browser("POST", f"/api/v1/attempts/{attempt['id']}/submit", json=body)  # retry
    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["passed"] is True and second.json() == first.json()
    done = browser("GET", f"/api/v1/courses/{COURSE_CODE}/progress")
    assert done.json()["completed_at"] is not None and done.json()["lessons_read"] == 2
    assert browser("GET", f"/learn/{COURSE_CODE}").status_code == 200

    assert {base for base, _path, _status in browser.seen} == {a, b}
    assert all(status < 500 for _base, _path, status in browser.seen)

    # Signing out on one node ends the session on every node (a server-side row).
    browser.turn = 1
    form = browser.http.get(f"{b}/auth/logout", timeout=30)
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = browser.http.post(f"{b}/auth/logout", data={"csrf_token": token}, timeout=30,
                            allow_redirects=False)
    assert out.status_code == 303
    assert browser.http.get(f"{a}/api/v1/me", timeout=30).status_code == 401


def _correct_options(cluster: Cluster) -> set[int]:
    import psycopg

    name = cluster.database_url.rsplit("/", 1)[1]
    with psycopg.connect(f"host=127.0.0.1 port={cluster.postgres.port} user=postgres "
                         f"dbname={name}") as conn:
        return {row[0] for row in conn.execute(
            "SELECT id FROM question_options WHERE is_correct")}


def test_a_rate_limit_counted_on_one_node_holds_on_the_other(cluster):
    a, b = cluster.urls
    for _ in range(3):  # RATELIMIT_VERIFY = 3 per minute, per client address
        assert requests.get(f"{a}/verify/NOSUCHCODE01", timeout=30).status_code != 429
    refused = requests.get(f"{b}/verify/NOSUCHCODE01", timeout=30)
    assert refused.status_code == 429  # counted in the shared Redis, not in A's memory
    assert "Retry-After" in refused.headers


def test_access_log_is_json_with_the_request_id_and_the_worker_is_up(cluster):
    response = requests.get(f"{cluster.urls[1]}/healthz?secret=1", timeout=30)
    request_id = response.headers["X-Request-ID"]
    deadline = time.monotonic() + 30
    lines: list[dict] = []
    while time.monotonic() < deadline and not any(
            line.get("request_id") == request_id for line in lines):
        time.sleep(0.2)
        lines = [json.loads(line) for line in cluster.nodes[1].log.read_text().splitlines()
                 if line.startswith("{")]
    entry = next(line for line in lines if line.get("request_id") == request_id)
    assert entry["path"] == "/healthz" and entry["status"] == 200  # no query string logged
    assert "secret" not in json.dumps(entry)
    worker_log = cluster.directory / "worker.log"
    while time.monotonic() < deadline and " ready." not in worker_log.read_text():
        time.sleep(0.2)
    assert " ready." in worker_log.read_text()
    assert cluster.worker is not None and cluster.worker.poll() is None
