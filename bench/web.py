"""`python -m bench web`: a signed-in learner's GET / and GET /api/v1/me, and a pupil's quiz
autosave (PUT, a committed write on every request), under gunicorn (2 sync workers) and wrk,
against the floor of a bare Flask app served and loaded the same way."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from bench.engines import Scratch
from bench.procs import (
    BenchError,
    Gunicorn,
    app_config,
    app_env,
    first_demo_pupil,
    prepare_database,
    tree_cpu_seconds,
)
from bench.report import kib, ratio, table
from bench.wrk import Load, WrkResult, run_wrk

USER_AGENT = "hocvuso-bench/1"
ENDPOINTS = ("/", "/api/v1/me")
WARMUP = Load(seconds=2)
COURSE_PACKAGE = "courses/content/an-toan-giao-thong"  # imported before `demo load`
COURSE = "ATGT-HS"  # its code: audience students, a 20-minute quiz
AUTOSAVE = "PUT autosave answer"


@dataclass
class Learner:
    id: int
    full_name: str
    cookie: str


@dataclass
class Row:
    name: str
    result: WrkResult
    cpu_ms: float  # CPU of gunicorn (+ database server) per request: steadier than req/s
    rss_total_kib: int
    rss_max_kib: int


def learner_session(database_url: str) -> Learner:
    """A session cookie for the first demo learner, signed by the app's own serializer, as
    login_user() leaves it (with the session-protection identifier of wrk's address and agent,
    so the app has no reason to re-issue the cookie on every answer)."""
    from sqlalchemy import select

    from lms.app import create_app
    from lms.db import get_db, session, transaction
    from lms.people.models import Role, RoleGrant, User
    from lms.security import login_manager
    from lms.units.models import Unit

    app = create_app(app_config(database_url))
    try:
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                      headers={"User-Agent": USER_AGENT}):
            with transaction():
                user = session.execute(
                    select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                    .join(Unit, Unit.id == RoleGrant.unit_id)
                    .where(RoleGrant.role == Role.LEARNER, Unit.code.startswith("DEMO-"))
                    .order_by(User.id).limit(1)).scalar_one()
                cookie_id = _cookie_id(user)
            data = {"_user_id": cookie_id, "_fresh": True,
                    "_id": login_manager._session_identifier_generator()}
            serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
            return Learner(user.id, user.full_name, serializer.dumps(data))
    finally:
        get_db(app).dispose()


@dataclass
class Attempt:
    """A pupil's in-progress attempt, the pupil's cookie, and an option shown for question 1."""
    learner: Learner
    id: int
    option_id: int
    seconds_left: float

    @property
    def path(self) -> str:
        return f"/api/v1/attempts/{self.id}/answers/1"

    @property
    def body(self) -> str:
        return json.dumps({"selected": [self.option_id]})


def quiz_attempt(database_url: str) -> Attempt:
    """The first demo learner of a class starts ATGT-HS through the services a request uses:
    enrol, open every lesson, move its reading clock back past the minimum time, mark it read,
    start the final quiz. Committed; the cookie is built as in learner_session()."""

    from courses import queries as course_queries
    from enrollment import attempts, service
    from lms.app import create_app
    from lms.db import get_db, session, transaction, utcnow
    from lms.security import login_manager

    app = create_app(app_config(database_url))
    try:
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                      headers={"User-Agent": USER_AGENT}):
            with transaction():
                user = first_demo_pupil()
                enrollment = service.enroll(user, COURSE)
                for lesson in course_queries.lessons_of(enrollment.course_id):
                    progress = service.open_lesson(enrollment, lesson)
                    progress.first_opened_at = utcnow() - timedelta(seconds=lesson.min_seconds + 60)
                    session.flush()
                    service.mark_read(enrollment, lesson)
                try:
                    attempt = attempts.start(user, enrollment)
                except Exception as exc:  # passed already, no attempts left: say which pupil
                    raise BenchError(f"learner {user.id} cannot start the {COURSE} quiz: "
                                     f"{exc!r}") from exc
                session.flush()
                slot = next(q for q in attempt.questions if q.position == 1)
                left = (attempt.deadline_at - utcnow()).total_seconds() if attempt.deadline_at \
                    else float("inf")
                found = Attempt(Learner(user.id, user.full_name, ""), attempt.id,
                                slot.option_order[0], left)
                cookie_id = _cookie_id(user)
            data = {"_user_id": cookie_id, "_fresh": True,
                    "_id": login_manager._session_identifier_generator()}
            serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
            found.learner.cookie = serializer.dumps(data)
            return found
    finally:
        get_db(app).dispose()


def saved_at(database_url: str, attempt_id: int) -> Any:
    """attempt_questions.saved_at of question 1, read from the database itself."""
    from sqlalchemy import select

    from enrollment.models import AttemptQuestion
    from lms.app import create_app
    from lms.db import get_db, session, transaction

    app = create_app(app_config(database_url))
    try:
        with app.app_context(), transaction():
            return session.execute(select(AttemptQuestion.saved_at).where(
                AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == 1)
            ).scalar_one()
    finally:
        get_db(app).dispose()


def check_autosave(server: Gunicorn, attempt: Attempt, headers: dict[str, str],
                   database_url: str, load: Load) -> dict[str, str]:
    """As a browser does it: GET /api/v1/csrf-token with the cookie (keeping the cookie the app
    updates, which now carries the CSRF secret), then PUT with X-CSRFToken. Two PUTs must answer
    200 with the answer saved, and each must move attempt_questions.saved_at in the database.
    The attempt's clock must outlast warm-up + load with a margin. Returns the load's headers."""
    needed = WARMUP.seconds + load.seconds + 60
    if attempt.seconds_left < needed:
        raise BenchError(f"attempt {attempt.id} has {attempt.seconds_left:.0f} s left, the "
                         f"load needs {needed} s: it would expire (409) under load")
    status, body, cookies = _request(server.port, "GET", "/api/v1/csrf-token", headers)
    if status != 200:
        raise BenchError(f"GET /api/v1/csrf-token answered {status}")
    if "session" in cookies:
        if not cookies["session"].value:
            raise BenchError("GET /api/v1/csrf-token cleared the session cookie")
        headers = {**headers, "Cookie": f"session={cookies['session'].value}"}
    headers = {**headers, "Content-Type": "application/json",
               "X-CSRFToken": json.loads(body)["csrf_token"]}
    before = saved_at(database_url, attempt.id)
    for _ in range(2):
        time.sleep(0.01)  # the clock moves between two saves
        status, body, cookies = _request(server.port, "PUT", attempt.path, headers,
                                         attempt.body)
        if status != 200:
            raise BenchError(f"PUT {attempt.path} answered {status} (400: CSRF refused; "
                             f"401/302: cookie refused; 409: attempt closed): {body[:300]}")
        if "session" in cookies:
            raise BenchError(f"PUT {attempt.path} re-issues the session cookie")
        shown = json.loads(body)  # the saved answer: {"position", "selected", "saved_at"}
        if shown["position"] != 1 or shown["selected"] != [attempt.option_id]:
            raise BenchError(f"PUT {attempt.path} did not save the answer: {shown}")
        after = saved_at(database_url, attempt.id)
        if after is None or after == before:
            raise BenchError(f"PUT {attempt.path} answered 200 but attempt_questions.saved_at "
                             f"did not change ({before} → {after}): nothing was written")
        before = after
    return headers


def _cookie_id(user: Any) -> str:
    """What Flask-Login keeps in the cookie: user.get_id(), the token of a server-side session
    opened here the way sign-in opens one (at the level the learner's roles require)."""
    from lms.auth import service as auth

    user.session_token = auth.open_session(user, auth.required_level(user))
    return user.get_id()


def check_signed_in(server: Gunicorn, learner: Learner, headers: dict[str, str],
                    path: str) -> dict[str, str]:
    """Requests before the load: 200 and the learner recognised. A cookie the app updates
    (a CSRF token put in the session, say) is kept, as a browser would, until the app stops
    re-issuing it. A 302/401 or an anonymous page means the cookie is wrong, a 500 a bug:
    BenchError, loudly. Returns the headers for the load."""
    for _ in range(3):
        status, body, cookies = _get(server.port, path, headers)
        if status != 200:
            raise BenchError(f"GET {path} answered {status} to the signed-in learner "
                             "(302/401: the cookie is refused; 500: a bug); not measured")
        if path == "/api/v1/me" and json.loads(body).get("id") != learner.id:
            raise BenchError(f"GET {path} did not return learner {learner.id}: {body[:200]}")
        if path == "/" and learner.full_name not in body:
            raise BenchError("GET / does not show the learner's name: not signed in")
        if "session" not in cookies:
            return headers
        if not cookies["session"].value:
            raise BenchError(f"GET {path} cleared the session cookie: signed out")
        headers = {**headers, "Cookie": f"session={cookies['session'].value}"}
    raise BenchError(f"GET {path} re-issues the session cookie on every request")


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str, SimpleCookie]:
    return _request(port, "GET", path, headers)


def _request(port: int, method: str, path: str, headers: dict[str, str],
             body: str | None = None) -> tuple[int, str, SimpleCookie]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        body = response.read().decode()
    finally:
        conn.close()
    cookies: SimpleCookie = SimpleCookie()
    for value in response.msg.get_all("Set-Cookie") or []:
        cookies.load(value)
    return response.status, body, cookies


def measure(name: str, server: Gunicorn, path: str, load: Load, headers: dict[str, str],
            database_pid: int | None = None, *, method: str = "GET", body: str = "") -> Row:
    """Warm up, then one measured wrk run; CPU counts the database server's too, if any."""
    # templates, imports, pools: not measured
    run_wrk(server.base_url + path, WARMUP, headers, method=method, body=body)
    cpu = server.cpu_seconds() + tree_cpu_seconds(database_pid)
    result = run_wrk(server.base_url + path, load, headers, method=method, body=body)
    cpu = server.cpu_seconds() + tree_cpu_seconds(database_pid) - cpu
    if result.errors:
        raise BenchError(f"{method} {path}: {result.non2xx} non-2xx answers and "
                         f"{result.socket_errors} socket errors under load")
    return Row(name, result, 1000 * cpu / max(result.requests, 1), *server.peak_rss_kib())


def run(engines: list[str], load: Load) -> dict[str, Any]:
    """Floor first, then each endpoint on each engine, each on its own fresh gunicorn."""
    rows: dict[str, list[Row]] = {}
    failures: list[str] = []
    headers = {"User-Agent": USER_AGENT}
    with Scratch("web") as scratch:
        floor_before = measure_floor(scratch, load, headers)
        for engine in engines:
            url = scratch.database_url(engine, "bench_web")
            prepare_database(url, demo=True, courses=(COURSE_PACKAGE,))
            learner = learner_session(url)
            signed_in = {**headers, "Cookie": f"session={learner.cookie}"}
            rows[engine] = []
            for path in ENDPOINTS:
                server = Gunicorn("wsgi:app", app_env(url), scratch.path(f"{engine}.log"))
                try:
                    server.wait_ready("/healthz")
                    ready = check_signed_in(server, learner, signed_in, path)
                    rows[engine].append(measure(f"GET {path} (signed-in learner)", server,
                                                path, load, ready, scratch.postgres_pid()))
                except BenchError as exc:  # the other endpoints still get measured
                    failures.append(f"{engine}: {exc}{_server_error(server)}")
                finally:
                    server.stop()
            rows[engine].extend(measure_autosave(engine, url, scratch, load, headers, failures))
        floor_after = measure_floor(scratch, load, headers)
    floor_row = _mean(floor_before, floor_after)
    _print(floor_row, rows, load)
    drift = abs(floor_before.result.rps - floor_after.result.rps) / floor_row.result.rps
    print(f"floor before / after: {floor_before.result.rps:,.0f} / "
          f"{floor_after.result.rps:,.0f} req/s (the floor row is their mean)"
          + (f"; WARNING: they differ by {drift:.0%}, the machine was busy: ratios are rough"
             if drift > 0.2 else ""))
    if failures:
        raise BenchError("web:\n" + "\n".join(failures))
    return {"load": asdict(load), "floor": _dump(floor_row, floor_row),
            "engines": {e: [_dump(r, floor_row) for r in rs] for e, rs in rows.items()}}


def measure_autosave(engine: str, url: str, scratch: Scratch, load: Load,
                     headers: dict[str, str], failures: list[str]) -> list[Row]:
    """The pupil's attempt is started just before its own fresh gunicorn, so that its 20-minute
    clock covers the load; every request rewrites answer 1 (SELECT … FOR UPDATE, UPDATE,
    COMMIT)."""
    server = None
    try:
        attempt = quiz_attempt(url)
        server = Gunicorn("wsgi:app", app_env(url), scratch.path(f"{engine}-put.log"))
        server.wait_ready("/healthz")
        ready = check_autosave(server, attempt,
                               {**headers, "Cookie": f"session={attempt.learner.cookie}"},
                               url, load)
        return [measure(AUTOSAVE, server, attempt.path, load, ready, scratch.postgres_pid(),
                        method="PUT", body=attempt.body)]
    except BenchError as exc:
        failures.append(f"{engine}: {exc}{_server_error(server) if server else ''}")
        return []
    finally:
        if server is not None:
            server.stop()


def measure_floor(scratch: Scratch, load: Load, headers: dict[str, str]) -> Row:
    floor = Gunicorn("bench.floor_app:app", app_env("sqlite://"), scratch.path("floor.log"))
    try:
        floor.wait_ready("/")
        return measure("floor: bare Flask, GET /", floor, "/", load, headers)
    finally:
        floor.stop()


def _mean(a: Row, b: Row) -> Row:
    """The floor is measured before and after the product; its row is the mean of both."""
    ra, rb = a.result, b.result
    result = WrkResult(ra.requests + rb.requests, ra.seconds + rb.seconds,
                       ra.non2xx + rb.non2xx, ra.socket_errors + rb.socket_errors,
                       (ra.p50_ms + rb.p50_ms) / 2, (ra.p90_ms + rb.p90_ms) / 2,
                       (ra.p99_ms + rb.p99_ms) / 2, max(ra.max_ms, rb.max_ms))
    return Row(a.name, result, (a.cpu_ms + b.cpu_ms) / 2,
               max(a.rss_total_kib, b.rss_total_kib), max(a.rss_max_kib, b.rss_max_kib))


def _server_error(server: Gunicorn) -> str:
    """The last exception the server logged, if any: the reason for a 500."""
    text = server.log.read_text(errors="replace")
    last = [line for line in text.splitlines() if "Error" in line or "Exception" in line]
    return f"\n  server log: {last[-1].strip()}" if last else ""


def _dump(row: Row, floor: Row) -> dict[str, Any]:
    return {"name": row.name, **asdict(row.result), "rps": row.result.rps,
            "rps_over_floor": row.result.rps / floor.result.rps,
            "p99_over_floor": row.result.p99_ms / floor.result.p99_ms,
            "cpu_ms_per_request": row.cpu_ms, "cpu_over_floor": row.cpu_ms / floor.cpu_ms,
            "rss_total_kib": row.rss_total_kib, "rss_max_kib": row.rss_max_kib}


def _print(floor: Row, rows: dict[str, list[Row]], load: Load) -> None:
    print(f"\nweb: gunicorn 2 sync workers, {load.describe()} (+2 s warm-up), 127.0.0.1")
    print("floor = a bare Flask app, one endpoint returning a 47-byte HTML string, same "
          "gunicorn settings, same wrk load")
    lines = []
    for engine, label in [("", "-"), *((e, e) for e in rows)]:
        for row in [floor] if not engine else rows[engine]:
            r = row.result
            lines.append([label, row.name, f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                          str(r.errors), ratio(r.rps, floor.result.rps),
                          ratio(r.p99_ms, floor.result.p99_ms), f"{row.cpu_ms:.2f}",
                          ratio(row.cpu_ms, floor.cpu_ms), kib(row.rss_total_kib),
                          kib(row.rss_max_kib)])
    print(table(["db", "what", "req/s", "p50 ms", "p99 ms", "errors", "req/s ÷ floor",
                 "p99 ÷ floor", "CPU ms/req", "CPU ÷ floor", "peak RSS all", "largest proc"],
                lines))
    print("CPU ms/req = user+system CPU of the gunicorn master and workers (and, on "
          "postgresql, of the PostgreSQL server) during the run, per request: the figure least "
          "disturbed by other load on the machine")
    print("peak RSS = VmHWM summed over the gunicorn master and its 2 workers; largest proc = "
          "the biggest of them")
    print(f"{AUTOSAVE} = PUT /api/v1/attempts/<id>/answers/1 by the first demo pupil of a "
          f"class, in a running {COURSE} attempt, with the session cookie and X-CSRFToken: "
          "every request locks the attempt, rewrites the answer and commits")
