"""`python -m bench pages`: what a signed-in learner's pages cost in one process, through the
Flask test client (no server, no network): CPU and wall milliseconds a request and queries a
request for each page, against a bare Flask endpoint timed the same way in the same run.
`--profile` then prints cProfile's top costs of the course and lesson pages."""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.engines import Scratch
from bench.procs import (
    BenchError,
    app_config,
    first_demo_pupil,
    prepare_database,
    tree_cpu_seconds,
)
from bench.report import ratio, table

COURSE_PACKAGES = ("courses/content/an-toan-giao-thong",
                   "courses/content/an-toan-khong-gian-mang", "courses/content/chinh-quyen-so")
WARMUP = 20  # requests per page before timing: caches, the session cookie, SQLite's pages
PROFILED = ("course", "lesson")


@dataclass
class Row:
    name: str
    path: str
    cpu_ms: float  # time.process_time of this process per request
    wall_ms: float
    queries: float  # statements sent to the database per request (BEGIN/COMMIT included)
    database_cpu_ms: float = 0.0  # PostgreSQL backends' CPU per request (0 on SQLite)


def _time(call: Callable[[], Any], count: int, database_pid: int | None) -> tuple[float, ...]:
    for _ in range(WARMUP):
        call()
    database_before = tree_cpu_seconds(database_pid) if database_pid else 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    database = (tree_cpu_seconds(database_pid) - database_before) if database_pid else 0.0
    return cpu * 1000 / count, wall * 1000 / count, database * 1000 / count


def floor_row(count: int) -> Row:
    """The bare Flask endpoint of bench/floor_app.py through its own test client."""
    from bench.floor_app import app

    client = app.test_client()

    def call() -> None:
        if client.get("/").status_code != 200:
            raise BenchError("the floor app did not answer 200")

    cpu, wall, _ = _time(call, count, None)
    return Row("bare Flask", "/", cpu, wall, 0.0)


def learner_paths(app: Any) -> tuple[int, dict[str, str]]:
    """A demo pupil with assigned courses (the first demo class's first learner), and the
    pages to time: their assignments, the catalogue, the first assigned course, its first
    lesson and /api/v1/me."""
    from sqlalchemy import select

    from courses import queries as course_queries
    from enrollment.assignments import service as assignment_service
    from enrollment.models import Enrollment
    from lms.db import session, transaction

    with app.test_request_context(), transaction():
        user = first_demo_pupil()
        assignment_service.enroll_assigned(user)
        session.flush()
        enrollment = session.execute(select(Enrollment).where(Enrollment.user_id == user.id)
                                     .order_by(Enrollment.id).limit(1)).scalar_one_or_none()
        if enrollment is None:
            raise BenchError(f"demo learner {user.id} has no assigned course")
        course = course_queries.get_course(enrollment.course_id)
        lesson = course_queries.lessons_of(course.id)[0]
        user_id = user.id
        code, slug = course.code, lesson.slug
    return user_id, {"assignments": "/learn/assignments", "catalogue": "/learn/",
                     "course": f"/learn/{code}", "lesson": f"/learn/{code}/lessons/{slug}",
                     "api me": "/api/v1/me"}


def measure(url: str, count: int, database_pid: int | None,
            profile: bool) -> tuple[list[Row], list[str]]:
    """Each page timed; with `profile`, cProfile's report of the course and lesson pages."""
    from sqlalchemy import event

    from lms.app import create_app
    from lms.db import get_db
    from tests.support.factories import signed_in_client

    app = create_app(app_config(url))
    engine = get_db(app).engine
    statements = [0]

    def count_statement(*_args: Any) -> None:
        statements[0] += 1

    try:
        user_id, paths = learner_paths(app)
        client = signed_in_client(app, user_id)
        event.listen(engine, "before_cursor_execute", count_statement)
        rows = []
        for name, path in paths.items():
            def call(path: str = path) -> None:
                response = client.get(path)
                if response.status_code != 200:
                    raise BenchError(f"GET {path} answered {response.status_code}")

            call()
            statements[0] = 0
            call()
            queries = statements[0]
            cpu, wall, database = _time(call, count, database_pid)
            rows.append(Row(name, path, cpu, wall, queries, database))
        reports = [_profile(name, paths[name], client) for name in PROFILED] if profile else []
        return rows, reports
    finally:
        if event.contains(engine, "before_cursor_execute", count_statement):
            event.remove(engine, "before_cursor_execute", count_statement)
        get_db(app).dispose()


def _profile(name: str, path: str, client: Any, requests: int = 100) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(30)
    return f"\ncProfile, {requests} × GET {path} ({name}), by cumulative time:\n{out.getvalue()}"


def run(engines: list[str], count: int, profile: bool = False) -> dict[str, Any]:
    results: dict[str, Any] = {"requests": count}
    with Scratch("pages") as scratch:
        for engine in engines:
            url = scratch.database_url(engine, "pages")
            print(f"\npages on {engine}: preparing (migrations, official units, "
                  f"{len(COURSE_PACKAGES)} courses, demo province)...", flush=True)
            prepare_database(url, demo=True, courses=COURSE_PACKAGES)
            floor = floor_row(count)
            rows, reports = measure(url, count, scratch.postgres_pid(), profile)
            _print(engine, floor, rows, count)
            for report in reports:
                print(report)
            results[engine] = {"floor": asdict(floor), "pages": [asdict(r) for r in rows]}
    return results


def _print(engine: str, floor: Row, rows: list[Row], count: int) -> None:
    header = ["page", "path", "CPU ms/req", "wall ms/req", "× floor CPU",
              "throughput vs floor", "queries/req"]
    if engine == "postgresql":
        header.append("PostgreSQL CPU ms/req")
    lines = []
    for row in [floor, *rows]:
        cells = [row.name, row.path, f"{row.cpu_ms:.2f}", f"{row.wall_ms:.2f}",
                 ratio(row.cpu_ms, floor.cpu_ms),
                 ratio(floor.cpu_ms, row.cpu_ms + row.database_cpu_ms), f"{row.queries:.0f}"]
        if engine == "postgresql":
            cells.append(f"{row.database_cpu_ms:.2f}")
        lines.append(cells)
    print(f"\npages on {engine}, {count} requests each after {WARMUP} of warm-up, one process, "
          "Flask test client (throughput vs floor: floor CPU / page CPU, the database "
          "server's included; the issue's target is ≥ 0.50×)")
    print(table(header, lines))
