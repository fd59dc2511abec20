"""`python -m bench generate`: `flask demo generate --learners N` against the floor of the same
rows written with hand-written SQL (bench/floor_write.py, which this module's `floor` entry
point extends with the public servants' agencies, departments and people), on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import math
import random
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.engines import Scratch, driver_target
from bench.procs import BenchError, Measured, app_env, prepare_database, run_measured
from bench.report import kib, ratio, secs, table

# The shape of lms/demo/generate.py (not imported: the floor process stays free of the app).
SERVANTS_SHARE, AGENCY_SIZE, DEPARTMENT_SIZE = 0.10, 400, 20
FLOOR_TEXT = {
    "sqlite": "sqlite3 executemany of one plain INSERT per table (explicit ids), one "
              "transaction, the app's pragmas (WAL, synchronous=NORMAL, foreign_keys=ON)",
    "postgresql": "psycopg COPY ... FROM STDIN (text, write_row) per table with explicit ids, "
                  "then setval of the two id sequences, one transaction",
}


@dataclass
class Run:
    engine: str
    learners: int
    rows: dict[str, int]
    ours: Measured
    ours_reported_s: float | None
    floor: Measured
    floor_write_s: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def ours_s(self) -> float:
        """The command's own timer (its whole transaction); wall time if it printed none."""
        return self.ours_reported_s if self.ours_reported_s is not None else self.ours.seconds


def count_rows(url: str) -> dict[str, int]:
    """Rows in every table, through the plain driver (the app is not involved)."""
    target = driver_target(url)
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(target)
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite_%'")]
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                    for t in names}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(target) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                for t in names}


def _added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Rows added per table, tables that gained none left out."""
    order = {"units": 0, "users": 1, "role_grants": 2}
    return {t: n - before.get(t, 0) for t, n in sorted(after.items(), key=lambda x: (
        order.get(x[0], 9), x[0])) if n != before.get(t, 0)}


def run_engine(scratch: Scratch, engine: str, learners: int) -> Run:
    """Two databases prepared the same way (migrations + official units); ours writes into
    one, the floor into the other; both must add the same number of rows to each table."""
    ours_url = scratch.database_url(engine, "bench_generate_ours")
    floor_url = scratch.database_url(engine, "bench_generate_floor")
    for url in (ours_url, floor_url):
        prepare_database(url, demo=False)
    before = {url: count_rows(url) for url in (ours_url, floor_url)}
    timeout = 120 + learners * 0.003  # bounded: a stuck run is killed, not waited for
    ours = run_measured([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "generate",
                         "--learners", str(learners)], env=app_env(ours_url),
                        timeout=timeout, log=scratch.path(f"{engine}-ours.log"))
    floor = run_measured([sys.executable, "-m", "bench.generate", "floor", engine,
                          driver_target(floor_url), str(learners)], env=app_env(floor_url),
                         timeout=timeout, log=scratch.path(f"{engine}-floor.log"))
    ours_rows = _added(before[ours_url], count_rows(ours_url))
    floor_rows = _added(before[floor_url], count_rows(floor_url))
    if ours_rows != floor_rows or ours_rows.get("users") != learners:
        raise BenchError(f"{engine}: ours added {ours_rows}, the floor {floor_rows}: not the "
                         "same work, so no ratio (extend bench/floor_write.py to match)")
    # "generated N learners in C classes of S schools in 12.3s": the last figure in seconds
    reported = re.search(r"([0-9]+(?:\.[0-9]+)?) ?s\s*$", ours.stdout.strip())
    floor_out = json.loads(floor.stdout.strip().splitlines()[-1])
    return Run(engine, learners, ours_rows, ours, float(reported[1]) if reported else None,
               floor, floor_out["seconds"])


def run(engines: list[str], learners: int) -> dict[str, Any]:
    results = []
    with Scratch("generate") as scratch:
        for engine in engines:
            print(f"generate: {engine}, {learners:,} learners ...", flush=True)
            results.append(run_engine(scratch, engine, learners))
    _print(results)
    return {"learners": learners, "runs": [_dump(r) for r in results]}


def _dump(run: Run) -> dict[str, Any]:
    return {"engine": run.engine, "rows": run.rows, "ours_wall_s": run.ours.seconds,
            "ours_reported_s": run.ours_reported_s, "ours_peak_rss_kib": run.ours.peak_rss_kib,
            "floor_write_s": run.floor_write_s, "floor_peak_rss_kib": run.floor.peak_rss_kib,
            "ours_over_floor": run.ours_s / run.floor_write_s,
            "floor": FLOOR_TEXT[run.engine], "ours_output": run.ours.stdout.strip()}


def _print(results: list[Run]) -> None:
    if not results:
        return
    first = results[0]
    print(f"\ngenerate: {first.learners:,} learners = "
          + ", ".join(f"{n:,} {t}" for t, n in first.rows.items())
          + f" ({first.total_rows:,} rows) into a database with the schema and official units")
    lines = []
    for r in results:
        lines.append([r.engine, "flask demo generate", f"{r.ours_s:.1f}",
                      f"{r.total_rows / r.ours_s:,.0f}", ratio(r.ours_s, r.floor_write_s),
                      secs(r.ours.seconds), kib(r.ours.peak_rss_kib)])
        lines.append([r.engine, "floor: hand-written SQL", secs(r.floor_write_s),
                      f"{r.total_rows / r.floor_write_s:,.0f}", "1.00×",
                      secs(r.floor.seconds), kib(r.floor.peak_rss_kib)])
    print(table(["db", "what", "seconds", "rows/s", "time ÷ floor", "process wall s",
                 "peak RSS"], lines))
    print("seconds: ours = what the command prints, its own timer to 0.1 s (lookups, row "
          "building, inserts, commit; not Python/app start-up); floor = BEGIN to COMMIT only")
    for r in results:
        print(f"{r.engine} floor: {FLOOR_TEXT[r.engine]}; its rows are pre-generated before "
              "the timer (cheap: random hashes, cycled names and dates) and count in its RSS")
        if r.ours_reported_s is None:
            print(f"{r.engine} ours: the command printed no time; its wall time is used")
    print("process wall s = the whole process, start-up (and the floor's row building) "
          "included; peak RSS = ru_maxrss of that one process (bench/peak_rss.py)")


def build_rows_with_servants(learners: int, communes: list[tuple[int, str, int]],
                             next_unit: int, next_user: int, now: str, true: Any, *,
                             students_rows: Any = None) -> dict[str, list[tuple]]:
    """bench/floor_write.build_rows for the students, then what `demo generate` adds for its
    public servants (a share of the learners): agencies of 400 over the communes in turn,
    departments of 20, one user and one learner grant on a department each."""
    from bench import floor_write

    servants = min(learners - 1, int(learners * SERVANTS_SHARE))
    students = learners - servants
    rows = (students_rows or floor_write.build_rows)(students, communes, next_unit, next_user,
                                                     now, true)
    next_unit += len(rows["units"])
    prefix, per_agency = floor_write.PREFIX, math.ceil(AGENCY_SIZE / DEPARTMENT_SIZE)
    agency_info = []
    for a in range(1, math.ceil(servants / AGENCY_SIZE) + 1):
        commune_id, path, depth = communes[(a - 1) % len(communes)]
        code = f"{prefix}-A{a}"
        agency_info.append((next_unit, f"{path}{code}/", depth + 1))
        rows["units"].append((next_unit, code, f"Cơ quan hành chính số {a}", "agency",
                              commune_id, f"{path}{code}/", depth + 1, true, now))
        next_unit += 1
    first_department = next_unit
    for d in range(math.ceil(servants / DEPARTMENT_SIZE)):
        agency_id, path, depth = agency_info[d // per_agency]
        code = f"{prefix}-A{d // per_agency + 1}-P{d % per_agency + 1}"
        rows["units"].append((next_unit, code, f"Phòng {d % per_agency + 1}", "department",
                              agency_id, f"{path}{code}/", depth + 1, true, now))
        next_unit += 1
    rng = random.Random(2)
    births = [(date(1966, 1, 1) + timedelta(days=d)).isoformat() for d in range(4000)]
    first_user = next_user + students
    rows["users"] += [(first_user + i, floor_write.ISSUER, f"{prefix}-{students + i}",
                       floor_write.NAMES[i % 8], births[i % 4000],
                       f"{rng.getrandbits(256):064x}", f"0010****{i % 10000:04d}", true, now)
                      for i in range(servants)]
    rows["role_grants"] += [(first_user + i, "learner", first_department + i // DEPARTMENT_SIZE,
                             now) for i in range(servants)]
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["floor"]:
    # `python -m bench.generate floor ENGINE TARGET LEARNERS`: bench/floor_write.py, its rows
    # extended with the public servants, so that both sides write the same rows.
    from functools import partial

    from bench import floor_write

    floor_write.build_rows = partial(build_rows_with_servants,
                                     students_rows=floor_write.build_rows)
    floor_write.main(sys.argv[2:])
