"""`python -m bench figures`: a province of N learners (`flask demo generate` with the three
shipped courses loaded: students in schools and public servants in agencies, rosters, the three
courses assigned, enrolments, counters), then, each in a process of its own
(bench/figures_driver.py):

- the province dashboard with its per-commune table from the counters (`unit_figures`) against
  the live GROUP BY over enrolments (`live_children`); they must be equal, else no ratio;
- the people-list CSV export of the province for ATGT-HS and CQS-CC (the students' course and
  the servants': one row per learner) against
  PostgreSQL's own `COPY (SELECT the same rows) TO STDOUT`, and the export process's peak RSS.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from bench.engines import Scratch
from bench.procs import BenchError, Measured, app_env, prepare_database, run_measured
from bench.report import kib, ratio, secs, table

PROVINCE = "01"  # `flask demo generate`'s default province (Hà Nội)
COURSE = "ATGT-HS,CQS-CC"  # the exported courses: students take one, servants the other
ASSIGNED = ("ATGT-HS", "ATKGM", "CQS-CC")  # the students' two, the public servants' one
PACKAGES = ("courses/content/an-toan-giao-thong", "courses/content/an-toan-khong-gian-mang",
            "courses/content/chinh-quyen-so")
FIGURES_TARGET = 0.1  # ours ≤ 0.1 × the live GROUP BY
EXPORT_TARGET = 2.0  # the export ≤ 2 × COPY of the same rows (PostgreSQL)
RSS_TARGET_KIB = 200 * 1024


@dataclass
class Run:
    engine: str
    learners: int
    generate: Measured
    figures: dict[str, Any]
    export: Measured
    export_out: dict[str, Any]
    floor: Measured | None
    floor_out: dict[str, Any] | None


def _json(measured: Measured) -> dict[str, Any]:
    return json.loads(measured.stdout.strip().splitlines()[-1])


def _driver(scratch: Scratch, engine: str, url: str, args: list[str],
            timeout: float) -> tuple[Measured, dict[str, Any]]:
    measured = run_measured([sys.executable, "-m", "bench.figures_driver", *args],
                            env=app_env(url), timeout=timeout,
                            log=scratch.path(f"{engine}-{args[0]}.log"))
    return measured, _json(measured)


def run_engine(scratch: Scratch, engine: str, learners: int) -> Run:
    url = scratch.database_url(engine, "bench_figures")
    prepare_database(url, demo=False, courses=PACKAGES)
    timeout = 300 + learners * 0.01  # bounded: a stuck run is killed, not waited for
    generate = run_measured([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "generate",
                             "--learners", str(learners), "--province", PROVINCE],
                            env=app_env(url), timeout=timeout,
                            log=scratch.path(f"{engine}-generate.log"))
    if "roster entries" not in generate.stdout:
        raise BenchError(f"{engine}: demo generate added no rosters or enrolments (are the "
                         f"course packages loaded?):\n{generate.stdout}")
    _, figures = _driver(scratch, engine, url, ["figures", PROVINCE], timeout)
    if not figures["equal"]:
        raise BenchError(f"{engine}: the counters' figures differ from the live GROUP BY "
                         f"(children {figures['mismatched']}, totals {figures['totals']}): "
                         "no ratio")
    if tuple(figures["courses"]) != ASSIGNED:
        raise BenchError(f"{engine}: the province's assigned courses are {figures['courses']}, "
                         f"not {', '.join(ASSIGNED)}")
    if figures["totals"]["ours"][0] == 0:
        raise BenchError(f"{engine}: no one is expected in province {PROVINCE}: no ratio")
    export, export_out = _driver(scratch, engine, url, ["export", PROVINCE, COURSE], timeout)
    if export_out["rows"] != learners:
        raise BenchError(f"{engine}: the export has {export_out['rows']:,} rows, not one per "
                         f"learner ({learners:,})")
    floor = floor_out = None
    if engine == "postgresql":
        floor, floor_out = _driver(scratch, engine, url, ["floor", PROVINCE, COURSE], timeout)
        if floor_out["rows"] != export_out["rows"]:
            raise BenchError(f"{engine}: the floor has {floor_out['rows']:,} rows, the export "
                             f"{export_out['rows']:,}: not the same rows, so no ratio")
    return Run(engine, learners, generate, figures, export, export_out, floor, floor_out)


def run(engines: list[str], learners: int) -> dict[str, Any]:
    results = []
    with Scratch("figures") as scratch:
        for engine in engines:
            print(f"figures: {engine}, {learners:,} learners ...", flush=True)
            results.append(run_engine(scratch, engine, learners))
    _print(results)
    return {"learners": learners, "province": PROVINCE, "course": COURSE,
            "targets": {"figures_over_live": FIGURES_TARGET, "export_over_copy": EXPORT_TARGET,
                        "export_peak_rss_kib": RSS_TARGET_KIB},
            "runs": [_dump(r) for r in results]}


def _dump(run: Run) -> dict[str, Any]:
    out = {"engine": run.engine, "generate_wall_s": run.generate.seconds,
           "generate_output": run.generate.stdout.strip(),
           "generate_peak_rss_kib": run.generate.peak_rss_kib, "figures": run.figures,
           "figures_over_live": run.figures["ours_s"] / run.figures["live_s"],
           "export": run.export_out, "export_peak_rss_kib": run.export.peak_rss_kib}
    if run.floor_out is not None and run.floor is not None:
        out.update(floor={k: v for k, v in run.floor_out.items() if k != "sql"},
                   floor_sql=run.floor_out["sql"], floor_peak_rss_kib=run.floor.peak_rss_kib,
                   export_over_copy=run.export_out["seconds"] / run.floor_out["seconds"])
    return out


def _verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def _print(results: list[Run]) -> None:
    if not results:
        return
    n = results[0].learners
    print(f"\nfigures: province {PROVINCE}, {n:,} generated learners (students and public "
          f"servants), {len(ASSIGNED)} courses assigned to the province "
          f"({', '.join(ASSIGNED)}); today's figures")
    lines = []
    for r in results:
        f = r.figures
        lines.append([r.engine, "live GROUP BY over enrolments (live_children)",
                      secs(f["live_s"]), "1.00×"])
        runs = len(f["ours_runs_s"])
        lines.append([r.engine, f"counters roll-up (unit_figures), median of {runs}",
                      f"{f['ours_s']:.4f}", ratio(f["ours_s"], f["live_s"])])
    print(table(["db", "province dashboard + per-commune table", "seconds", "÷ live"], lines))
    for r in results:
        f = r.figures
        over = f["ours_s"] / f["live_s"]
        print(f"{r.engine}: {f['children']} communes ({f['children_with_people']} with "
              f"people), {f['totals']['ours'][0]:,} requirements, totals equal to the live "
              f"GROUP BY; ours = {over:.3f}× live, "
              f"{_verdict(over, FIGURES_TARGET)} the ≤ {FIGURES_TARGET}× target")
    lines = []
    for r in results:
        e = r.export_out
        lines.append([r.engine, f"people.csv ({COURSE.replace(',', ' + ')})", secs(e["seconds"]),
                      f"{e['rows'] / e['seconds']:,.0f}", f"{e['bytes'] / 1e6:,.0f} MB",
                      ratio(e["seconds"], r.floor_out["seconds"]) if r.floor_out else "n/a",
                      kib(r.export.peak_rss_kib)])
        if r.floor_out is not None and r.floor is not None:
            fl = r.floor_out
            lines.append([r.engine, "floor: COPY (SELECT plain) TO STDOUT", secs(fl["seconds"]),
                          f"{fl['rows'] / fl['seconds']:,.0f}", f"{fl['bytes'] / 1e6:,.0f} MB",
                          "1.00×", kib(r.floor.peak_rss_kib)])
    print()
    print(table(["db", "export into /dev/null", "seconds", "rows/s", "size", "÷ COPY",
                 "peak RSS"], lines))
    for r in results:
        rss = r.export.peak_rss_kib
        line = (f"{r.engine}: export peak RSS {kib(rss)}, "
                f"{_verdict(rss, RSS_TARGET_KIB)} the < 200 MiB target")
        if r.floor_out is not None:
            over = r.export_out["seconds"] / r.floor_out["seconds"]
            line += f"; {over:.2f}× COPY, {_verdict(over, EXPORT_TARGET)} the ≤ 2× target"
        else:
            line += " (no COPY on SQLite: time and rows/s only)"
        print(line)
    print("seconds: timers inside the measured process (not Python/app start-up); the floor "
          "is the same FROM/WHERE/ORDER BY with raw columns (no formatting, no neutralising), "
          "written as COPY sends it; peak RSS = ru_maxrss of the whole process, start-up "
          "included (bench/peak_rss.py)")
    for r in results:
        print(f"{r.engine} generate: {' / '.join(r.generate.stdout.strip().splitlines())}")
