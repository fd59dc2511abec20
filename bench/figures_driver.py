"""The measured side of `python -m bench figures`, one process per measurement so that each has
its own peak RSS. With the throwaway database in LMS_DATABASE_URL, prints one JSON line:

  figures PROVINCE          live_children (the GROUP BY over enrolments) against unit_figures
                            (the counters), timed, and whether they are equal
  export PROVINCE COURSES   the people-list CSV of the province for COURSES (comma-separated)
                            into /dev/null
  floor PROVINCE COURSES    COPY (SELECT the same rows, plain columns) TO STDOUT into /dev/null
                            (PostgreSQL only)

App creation and imports are outside every timer."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

OURS_RUNS = 7


def _province(code: str):
    from lms.units.queries import find_unit_by_code

    province = find_unit_by_code(code)
    if province is None:
        raise SystemExit(f"no unit {code}")
    return province


def figures(code: str) -> dict[str, Any]:
    from enrollment.assignments.queries import today_local
    from enrollment.reports.figures import ZERO, live_children, unit_figures
    from lms.db import session

    province, today = _province(code), today_local()
    live_runs = []
    for _ in range(2):  # the faster of two: the denominator is never flattered upwards
        started = time.perf_counter()
        live = live_children(province, today)
        live_runs.append(time.perf_counter() - started)
        session.rollback()
    unit_figures(province, today)  # warm-up
    session.rollback()
    ours_runs = []
    for _ in range(OURS_RUNS):
        started = time.perf_counter()
        ours = unit_figures(province, today)
        ours_runs.append(time.perf_counter() - started)
        session.rollback()
    ours_children = {row.code: row.figures for row in ours.children if row.figures != ZERO}
    live_children_ = {c: f for c, f in live.items() if f != ZERO}
    live_total = [sum(getattr(f, name) for f in live.values()) for name in
                  ("expected", "completed", "in_progress", "not_started", "overdue", "exempt")]
    ours_total = [ours.figures.expected, ours.figures.completed, ours.figures.in_progress,
                  ours.figures.not_started, ours.figures.overdue, ours.figures.exempt]
    mismatched = sorted(c for c in set(ours_children) | set(live_children_)
                        if ours_children.get(c) != live_children_.get(c))
    return {"today": today.isoformat(), "courses": list(ours.courses),
            "children": len(ours.children),
            "children_with_people": len(ours_children), "live_s": min(live_runs),
            "live_runs_s": live_runs, "ours_s": statistics.median(ours_runs),
            "ours_runs_s": ours_runs, "equal": not mismatched and live_total == ours_total,
            "mismatched": mismatched[:10], "totals": {"ours": ours_total, "live": live_total}}


def _export(code: str, course: str):
    from enrollment.assignments.queries import today_local
    from enrollment.reports.people_export import PeopleExport

    province = _province(code)
    return PeopleExport(province.id, province.code, province.path,
                        tuple(sorted(course.split(","))), today_local())


def export(code: str, course: str) -> dict[str, Any]:
    from enrollment.reports.people_export import stream_csv
    from lms.db import get_db

    plan = _export(code, course)
    engine = get_db().engine
    raw = engine.raw_connection()
    size = lines = 0
    try:
        with open(os.devnull, "wb") as sink:
            started = time.perf_counter()
            for chunk in stream_csv(raw.driver_connection, engine.dialect.name, plan):
                sink.write(chunk)
                size += len(chunk)
                lines += chunk.count(b"\n")
            seconds = time.perf_counter() - started
    finally:
        raw.close()
    return {"seconds": seconds, "bytes": size, "rows": lines - 1}


def floor(code: str, course: str) -> dict[str, Any]:
    from enrollment.reports.people_export import compiled_sql, copy_sql, statement
    from lms.db import get_db

    plan = _export(code, course)
    raw = get_db().engine.raw_connection()
    size = 0
    try:
        connection = raw.driver_connection
        sql = copy_sql(connection, statement(plan, "postgresql", plain=True))
        with open(os.devnull, "wb") as sink:
            started = time.perf_counter()
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for data in copy:  # nothing but the write: the floor is not slowed down
                    sink.write(data)
                    size += len(data)
            seconds = time.perf_counter() - started
        connection.rollback()
        with connection.cursor() as cursor:  # untimed: the rows, to check the same work
            plain, params = compiled_sql(statement(plan, "postgresql", plain=True),
                                         "postgresql")
            cursor.execute(f"SELECT count(*) FROM ({plain}) AS rows", params)  # noqa: S608
            rows = cursor.fetchone()[0]
    finally:
        raw.close()
    return {"seconds": seconds, "bytes": size, "rows": rows, "sql": sql[:4000]}


def main(argv: list[str]) -> None:
    from wsgi import app

    with app.app_context():
        if argv[0] == "figures":
            out = figures(argv[1])
        elif argv[0] == "export":
            out = export(argv[1], argv[2])
        elif argv[0] == "floor":
            out = floor(argv[1], argv[2])
        else:
            raise SystemExit(f"unknown measurement {argv[0]}")
    print(json.dumps(out, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
