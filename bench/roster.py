"""`python -m bench roster`: one school's roster of N people (a valid CSV, as Excel writes it)
imported by `import_roster`, dry run then commit (bench/roster_import.py), against the floor of
the same N rows written into a bare table by the engine's fastest load (bench/floor_roster.py).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.engines import Scratch, driver_target
from bench.generate import count_rows
from bench.procs import BenchError, Measured, app_env, flask, prepare_database, run_measured
from bench.report import kib, ratio, secs, table

COMMUNE = "00691"  # an official commune (Hà Giang), as in tests/enrollment/test_rosters.py
SCHOOL, CLASSES = "BENCH-ROSTER-S", 40
HEADER = "Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"
TARGET = 15.0  # the target on PostgreSQL: dry run + commit ≤ 15 × the floor
FLOOR_TEXT = {
    "sqlite": "sqlite3 executemany of one plain INSERT into a bare table (no key, no index), "
              "one transaction, the app's pragmas (WAL, synchronous=NORMAL, foreign_keys=ON)",
    "postgresql": "psycopg COPY ... FROM STDIN (text, write_row) into a bare table (no key, "
                  "no index), one transaction",
}


@dataclass
class Run:
    engine: str
    rows: int
    dry: Measured
    dry_s: float
    commit: Measured
    commit_s: float
    floor: Measured
    floor_s: float
    entries: int

    @property
    def ours_s(self) -> float:
        return self.dry_s + self.commit_s


def class_name(k: int) -> str:
    return f"Lớp {6 + k % 4}A{k // 4 + 1}"


def units_csv(path: Path) -> None:
    """One school under an official commune and its classes, for `flask units import`."""
    lines = ["Mã;Tên;Loại;Mã đơn vị cha", f"{SCHOOL};Trường THCS Hiệu Năng;school;{COMMUNE}"]
    lines += [f"{SCHOOL}-L{k + 1};{class_name(k)};class;{SCHOOL}" for k in range(CLASSES)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")


def roster_csv(path: Path, rows: int) -> None:
    """N valid lines, as Excel's "CSV UTF-8" (BOM, ';', CRLF): random NFC names, birth dates
    of pupils, unique synthetic IDs consistent with them (digit 4: century and sex, 5-6: year),
    classes by name, spread evenly."""
    from lms.demo.names import random_name
    from lms.demo.people import synthetic_personal_id
    from lms.pii import registration_prefixes

    prefixes = sorted(registration_prefixes())
    rng = random.Random(20250101)
    start, span = date(2008, 1, 1), (date(2015, 12, 31) - date(2008, 1, 1)).days
    out = [HEADER]
    for i in range(rows):
        female = rng.random() < 0.5
        born = start + timedelta(days=rng.randrange(span))
        # serial i is unique below a million; beyond it the place prefix changes
        pid = synthetic_personal_id(rng, prefixes[i // 1_000_000], born, female, i)
        out.append(f"{random_name(rng, female)};{pid};{born:%d/%m/%Y};"
                   f"{class_name(i % CLASSES)}")
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("utf-8-sig"))


def _json(measured: Measured) -> dict[str, Any]:
    return json.loads(measured.stdout.strip().splitlines()[-1])


def _import(scratch: Scratch, engine: str, url: str, mode: str, csv_path: Path, rows: int,
            timeout: float, profile: Path | None = None) -> tuple[Measured, dict[str, Any]]:
    command = [sys.executable, "-m", "bench.roster_import", mode, SCHOOL, str(csv_path)]
    if profile is not None:
        command.append(str(profile))
    measured = run_measured(command, env=app_env(url), timeout=timeout,
                            log=scratch.path(f"{engine}-{mode}{'-prof' if profile else ''}.log"))
    out = _json(measured)
    if out["problems"] or out["rows"] != rows or out["added"] != rows:
        raise BenchError(f"{engine} {mode}: {rows:,} valid lines expected to be added, got "
                         f"{out}: the generated roster is wrong, so no ratio")
    return measured, out


def prepare(scratch: Scratch, engine: str, name: str) -> str:
    """Migrations, official units, then the school and its classes by `flask units import`."""
    url = scratch.database_url(engine, name)
    prepare_database(url, demo=False)
    units = scratch.path(f"{name}-units.csv")
    units_csv(units)
    flask(url, "units", "import", str(units))
    return url


def run_engine(scratch: Scratch, engine: str, rows: int, csv_path: Path) -> Run:
    ours_url = prepare(scratch, engine, "bench_roster_ours")
    floor_url = scratch.database_url(engine, "bench_roster_floor")
    if count_rows(ours_url).get("roster_entries") != 0:
        raise BenchError(f"{engine}: roster_entries not empty before the import")
    timeout = 120 + rows * 0.003  # bounded: a stuck run is killed, not waited for
    dry, dry_out = _import(scratch, engine, ours_url, "dry-run", csv_path, rows, timeout)
    commit, commit_out = _import(scratch, engine, ours_url, "commit", csv_path, rows, timeout)
    entries = count_rows(ours_url).get("roster_entries", 0)
    if entries != rows:
        raise BenchError(f"{engine}: {entries:,} roster_entries after the commit, not "
                         f"{rows:,}: not the floor's work, so no ratio")
    floor = run_measured([sys.executable, "-m", "bench.floor_roster", engine,
                          driver_target(floor_url), str(csv_path)], env=app_env(floor_url),
                         timeout=timeout, log=scratch.path(f"{engine}-floor.log"))
    floor_out = _json(floor)
    if floor_out["rows"] != rows:
        raise BenchError(f"{engine}: the floor wrote {floor_out['rows']:,} rows, not {rows:,}")
    return Run(engine, rows, dry, dry_out["seconds"], commit, commit_out["seconds"], floor,
               floor_out["seconds"], entries)


def profile_engine(scratch: Scratch, engine: str, rows: int, csv_path: Path) -> None:
    """Dry run and commit again under cProfile, into a fresh database; the top costs."""
    import pstats

    url = prepare(scratch, engine, "bench_roster_profile")
    for mode in ("dry-run", "commit"):
        stats_file = scratch.path(f"{engine}-{mode}.pstats")
        _, out = _import(scratch, engine, url, mode, csv_path, rows, 120 + rows * 0.01,
                         profile=stats_file)
        print(f"\nroster: {engine} {mode} under cProfile ({out['seconds']:.2f} s with the "
              "profiler's overhead); top 25 by own time, then by cumulative time:")
        stats = pstats.Stats(str(stats_file), stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)


def run(engines: list[str], rows: int, profile: bool = False) -> dict[str, Any]:
    results = []
    with Scratch("roster") as scratch:
        csv_path = scratch.path("roster.csv")
        roster_csv(csv_path, rows)
        for engine in engines:
            print(f"roster: {engine}, {rows:,} rows ...", flush=True)
            results.append(run_engine(scratch, engine, rows, csv_path))
        size = csv_path.stat().st_size
        _print(results, size)
        if profile:
            for engine in engines:
                profile_engine(scratch, engine, rows, csv_path)
    return {"rows": rows, "csv_bytes": size, "target_over_floor": TARGET,
            "runs": [_dump(r) for r in results]}


def _dump(run: Run) -> dict[str, Any]:
    return {"engine": run.engine, "rows": run.rows, "roster_entries": run.entries,
            "dry_run_s": run.dry_s, "commit_s": run.commit_s, "ours_s": run.ours_s,
            "dry_run_wall_s": run.dry.seconds, "commit_wall_s": run.commit.seconds,
            "dry_run_peak_rss_kib": run.dry.peak_rss_kib,
            "commit_peak_rss_kib": run.commit.peak_rss_kib, "floor_s": run.floor_s,
            "floor_peak_rss_kib": run.floor.peak_rss_kib,
            "ours_over_floor": run.ours_s / run.floor_s, "floor": FLOOR_TEXT[run.engine]}


def _print(results: list[Run], size: int) -> None:
    if not results:
        return
    n = results[0].rows
    print(f"\nroster: {n:,} valid lines ({size / 1e6:.1f} MB CSV UTF-8 with BOM, ';') into "
          f"school {SCHOOL} with {CLASSES} classes, an empty roster before")
    lines = []
    for r in results:
        for what, s, m in (("dry run", r.dry_s, r.dry), ("commit", r.commit_s, r.commit)):
            lines.append([r.engine, f"import_roster, {what}", secs(s), f"{n / s:,.0f}",
                          ratio(s, r.floor_s), secs(m.seconds), kib(m.peak_rss_kib)])
        lines.append([r.engine, "ours: dry run + commit", secs(r.ours_s),
                      f"{n / r.ours_s:,.0f}", ratio(r.ours_s, r.floor_s),
                      secs(r.dry.seconds + r.commit.seconds),
                      kib(max(r.dry.peak_rss_kib, r.commit.peak_rss_kib))])
        lines.append([r.engine, "floor: bare table", secs(r.floor_s), f"{n / r.floor_s:,.0f}",
                      "1.00×", secs(r.floor.seconds), kib(r.floor.peak_rss_kib)])
    print(table(["db", "what", "seconds", "rows/s", "time ÷ floor", "process wall s",
                 "peak RSS"], lines))
    print("seconds: ours = bench/roster_import.py's timer around read file + import_roster + "
          "COMMIT (not Python/app start-up); floor = BEGIN to COMMIT only")
    for r in results:
        print(f"{r.engine} floor: {FLOOR_TEXT[r.engine]}; rows built from the same CSV "
              "before the timer (count in its RSS)")
        verdict = "meets" if r.ours_s / r.floor_s <= TARGET else "MISSES"
        print(f"{r.engine}: {r.entries:,} roster_entries after the commit; dry run + commit = "
              f"{r.ours_s / r.floor_s:.1f}× the floor, {verdict} the ≤ {TARGET:.0f}× target"
              + (" (the target is set for PostgreSQL)" if r.engine != "postgresql" else ""))
    print("process wall s = the whole process, start-up included; peak RSS = ru_maxrss of "
          "that one process (bench/peak_rss.py)")


if __name__ == "__main__":  # a quick look at the generated file
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "r.csv"
        roster_csv(p, int(sys.argv[1]) if len(sys.argv) > 1 else 5)
        print(p.read_bytes().decode("utf-8-sig"))
