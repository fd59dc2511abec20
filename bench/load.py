"""`make load` (`python -m bench.load`): locust learners (bench/locustfile.py) against the
two-node cluster on PostgreSQL (bench/cluster.py), optionally restarting PostgreSQL mid-run
(`--fault postgres`); then the database check (every acknowledged lesson read, attempt and
completion present exactly once) and a bare Flask endpoint served the same way, for scale."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.cluster import Cluster, start_cluster
from bench.load_check import check_database, read_acks, write_plan
from bench.load_journey import csrf_token, sign_in
from bench.procs import ROOT, BenchError, free_port, get_status, tree_cpu_seconds
from bench.wrk import Load, WrkResult, run_wrk

LEARNER_PAGES = ("/learn/assignments", "/learn/{code}/lessons/{slug}")


@dataclass
class FaultReport:
    restarted_at: float = 0.0  # seconds into the run
    restart_seconds: float = 0.0  # pg_ctl restart, until the server accepts connections
    recovered_after: float | None = None  # after PostgreSQL is back, until both nodes serve
    error: str | None = None


@dataclass
class LoadReport:
    users: int
    run_time: int
    nodes: int = 2
    requests: int = 0
    failures: int = 0  # locust's count, clean 503s included
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0  # anything but a right answer or a clean 503
    error_samples: list[str] = field(default_factory=list)
    clean_503: int = 0
    resets: int = 0  # keep-alive connections closed by the server as reused: retried
    acked: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    cpu_ms_per_request: float = 0.0
    load_average: tuple[float, float] = (0.0, 0.0)
    fault: FaultReport | None = None

    @property
    def ok(self) -> bool:
        return (not self.errors and not sum(self.lost.values())
                and not sum(self.duplicated.values()) and not self.problems)


# -- the run --------------------------------------------------------------------------------

def _stats(prefix: Path, report: LoadReport) -> None:
    with open(f"{prefix}_stats.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    report.requests = int(row["Request Count"])
    report.failures = int(row["Failure Count"])
    report.rps = float(row["Requests/s"])
    report.p50_ms, report.p95_ms, report.p99_ms = (float(row[k]) for k in ("50%", "95%", "99%"))


def _restart_postgres(cluster: Cluster, at: float, started: float, fault: FaultReport) -> None:
    time.sleep(max(0.0, started + at - time.monotonic()))
    fault.restarted_at = time.monotonic() - started
    try:
        cluster.restart_postgres()
    except Exception as exc:  # reported, and the run fails its check
        fault.error = f"pg_ctl restart failed: {exc}"
        return
    back = time.monotonic()
    fault.restart_seconds = back - started - fault.restarted_at
    while time.monotonic() < back + 60:
        if all(get_status(node.port, "/readyz") == 200 for node in cluster.nodes):
            fault.recovered_after = time.monotonic() - back
            return
        time.sleep(0.1)


def run_load(cluster: Cluster, *, users: int, run_time: int, spawn_rate: float = 10,
             fault: str | None = None, fault_at: float | None = None,
             wait: tuple[float, float] = (2, 5)) -> LoadReport:
    """Locust for run_time seconds against every node of the cluster, then the database
    check. Raises BenchError when locust cannot run at all."""
    work = cluster.directory / "load"
    work.mkdir(exist_ok=True)
    plan, acks, prefix = work / "plan.json", work / "acks.jsonl", work / "locust"
    planned = write_plan(cluster, plan)
    if planned < users:
        raise BenchError(f"{users} users but only {planned} learners can sign in: load the "
                         "demo (flask demo load) or lower --users")
    report = LoadReport(users=users, run_time=run_time, nodes=len(cluster.nodes))
    env = {**cluster.env(), "LOAD_NODES": ",".join(cluster.urls), "LOAD_PLAN": str(plan),
           "LOAD_ACKS": str(acks), "LOAD_WAIT": f"{wait[0]},{wait[1]}"}
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
               "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate),
               "--run-time", f"{run_time}s", "--stop-timeout", "10", "--csv", str(prefix),
               "--only-summary", "--loglevel", "WARNING",
               "--web-port", str(free_port())]  # unused when headless; never a fixed port
    pids = [n.proc.pid for n in cluster.nodes] + [cluster.postgres_pid()]
    cpu_before = sum(tree_cpu_seconds(pid) for pid in pids)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    restarter = None
    if fault == "postgres":
        report.fault = FaultReport()
        restarter = threading.Thread(target=_restart_postgres, daemon=True, args=(
            cluster, fault_at if fault_at is not None else run_time / 3, started, report.fault))
        restarter.start()
    log = work / "locust.log"
    with log.open("w") as out:
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=run_time + 180, check=False)
    if restarter is not None:
        restarter.join(timeout=90)
    # after a restart the postmaster is a new process: its CPU before is lost, count what we can
    cpu = sum(tree_cpu_seconds(pid) for pid in [n.proc.pid for n in cluster.nodes]
              + [cluster.postgres_pid()]) - cpu_before
    report.load_average = (load_before, os.getloadavg()[0])
    if done.returncode not in (0, 1) or not Path(f"{prefix}_stats.csv").exists():
        raise BenchError(f"locust exited with {done.returncode}:\n{log.read_text()[-4000:]}")
    _stats(prefix, report)
    report.cpu_ms_per_request = 1000 * max(cpu, 0) / max(report.requests, 1)
    events = read_acks(acks)
    report.clean_503 = sum(1 for e in events if e["kind"] == "outage")
    report.resets = sum(1 for e in events if e["kind"] == "reset")
    errors = [e for e in events if e["kind"] == "error"]
    report.errors = len(errors)
    report.error_samples = [f"{e.get('path')}: {e.get('status', '')} {e.get('body', '')}"[:300]
                            for e in errors[:10]]
    check_database(cluster, events, report)
    if report.fault is not None and (report.fault.error or report.fault.recovered_after is None):
        report.problems.append(report.fault.error or "the nodes did not serve again within "
                                                     "60 s of PostgreSQL's restart")
    return report


# -- the floor: a bare Flask endpoint served the same way -----------------------------------

@dataclass
class FloorComparison:
    floor: WrkResult
    floor_cpu_ms: float
    pages: dict[str, tuple[WrkResult, float]]  # path → (wrk result, CPU ms per request)
    one_query: tuple[WrkResult, float]  # the floor plus one primary-key query
    load: Load


def _gunicorn(app: str, env: dict[str, str], port: int, log: Path,
              workers: int, threads: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:lms.gunicorn_conf", app],
        cwd=ROOT, env={**env, "LMS_BIND": f"127.0.0.1:{port}", "LMS_WEB_WORKERS": str(workers),
                       "LMS_WEB_THREADS": str(threads)},
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def compare_with_floor(cluster: Cluster, load: Load, *, workers: int = 2,
                       threads: int = 4) -> FloorComparison:
    """wrk on a signed-in learner's pages of node A (their assignments, a lesson of their first
    course), and on a bare Flask app under the same gunicorn configuration on one node of its
    own; CPU per request of each (gunicorn, plus PostgreSQL for the learner's pages)."""
    http = requests.Session()
    plan = json.loads((cluster.directory / "load" / "plan.json").read_text())
    base = cluster.urls[0]
    sign_in(http, base, plan["learners"][-1]["subject"])
    code = plan["learners"][-1]["courses"][0]["code"]
    token = csrf_token(http, base)
    progress = http.post(f"{base}/api/v1/courses/{code}/enrollment", timeout=30,
                         headers={"X-CSRFToken": token})
    if progress.status_code != 200:
        raise BenchError(f"enrolment answered {progress.status_code}")
    paths = [p.format(code=code, slug=progress.json()["lessons"][0]["slug"])
             for p in LEARNER_PAGES]
    for path in paths:  # opens the lesson (its clock) before the measured GETs
        if http.get(base + path, timeout=30).status_code != 200:
            raise BenchError(f"{path} does not answer 200 to the signed-in learner")
    headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in http.cookies),
               "User-Agent": "hocvuso-load/1"}
    port = free_port()
    floor = _gunicorn("bench.floor_app:app", cluster.env(), port,
                      cluster.directory / "floor.log", workers, threads)
    try:
        deadline = time.monotonic() + 60
        while get_status(port, "/") != 200:
            if time.monotonic() > deadline or floor.poll() is not None:
                raise BenchError("the floor app did not start")
            time.sleep(0.2)
        run_wrk(f"http://127.0.0.1:{port}/", Load(seconds=2), headers)  # warm-up
        cpu = tree_cpu_seconds(floor.pid)
        floor_result = run_wrk(f"http://127.0.0.1:{port}/", load, headers)
        floor_cpu = tree_cpu_seconds(floor.pid) - cpu
        query_url = f"http://127.0.0.1:{port}/one-query"
        run_wrk(query_url, Load(seconds=2), headers)
        cpu = tree_cpu_seconds(floor.pid) + tree_cpu_seconds(cluster.postgres_pid())
        query_result = run_wrk(query_url, load, headers)
        query_cpu = (tree_cpu_seconds(floor.pid) + tree_cpu_seconds(cluster.postgres_pid())
                     - cpu)
    finally:
        floor.terminate()
        floor.wait(timeout=30)
    pages = {}
    node = cluster.nodes[0]
    for path in paths:
        run_wrk(node.url + path, Load(seconds=2), headers)
        cpu = node.cpu_seconds() + tree_cpu_seconds(cluster.postgres_pid())
        page = run_wrk(node.url + path, load, headers)
        page_cpu = node.cpu_seconds() + tree_cpu_seconds(cluster.postgres_pid()) - cpu
        if page.errors:
            raise BenchError(f"wrk saw {page.errors} errors on {path}")
        pages[path] = (page, 1000 * page_cpu / max(page.requests, 1))
    if floor_result.errors or query_result.errors:
        raise BenchError(f"wrk saw {floor_result.errors + query_result.errors} errors on the "
                         "floor")
    return FloorComparison(floor_result, 1000 * floor_cpu / max(floor_result.requests, 1),
                           pages, (query_result,
                                   1000 * query_cpu / max(query_result.requests, 1)), load)


# -- printing -------------------------------------------------------------------------------

def print_report(report: LoadReport, floor: FloorComparison | None = None) -> None:
    print(f"\nload: {report.users} learners for {report.run_time} s against "
          f"{report.nodes} gunicorn nodes on one PostgreSQL (each learner's requests alternate "
          "between the nodes)")
    print(f"  requests {report.requests:,}  ({report.rps:,.1f} req/s)   p50 {report.p50_ms:.0f} ms"
          f"   p95 {report.p95_ms:.0f} ms   p99 {report.p99_ms:.0f} ms")
    print(f"  errors {report.errors}   clean 503s (retried) {report.clean_503}   "
          f"keep-alive resets (retried) {report.resets}   "
          f"CPU {report.cpu_ms_per_request:.1f} ms/request (gunicorn nodes + PostgreSQL)")
    print(f"  machine load average (1 min) before/after: {report.load_average[0]:.1f} / "
          f"{report.load_average[1]:.1f} on {os.cpu_count()} CPUs")
    for sample in report.error_samples:
        print(f"    error: {sample}")
    if report.fault is not None:
        f = report.fault
        print(f"  fault: PostgreSQL restarted at {f.restarted_at:.1f} s (pg_ctl restart took "
              f"{f.restart_seconds:.1f} s); both nodes ready again "
              + (f"{f.recovered_after:.1f} s after it was back" if f.recovered_after is not None
                 else "NEVER") + (f"; {f.error}" if f.error else ""))
    acked = ", ".join(f"{n} {k}" for k, n in report.acked.items()) or "nothing"
    print(f"  acknowledged: {acked}")
    print(f"  database check: {sum(report.lost.values())} lost "
          f"({', '.join(f'{k} {n}' for k, n in report.lost.items())}), "
          f"{sum(report.duplicated.values())} duplicated "
          f"({', '.join(f'{k} {n}' for k, n in report.duplicated.items())})")
    for problem in report.problems[:10]:
        print(f"    {problem}")
    if floor is not None:
        f = floor.floor
        print(f"\n  floor (bare Flask, same gunicorn settings, {floor.load.describe()}): "
              f"{f.rps:,.0f} req/s, p99 {f.p99_ms:.1f} ms, CPU {floor.floor_cpu_ms:.2f} ms/req")
        q, q_cpu = floor.one_query
        print(f"  floor + one primary-key query (SQLAlchemy, PostgreSQL): {q.rps:,.0f} req/s "
              f"= {q.rps / f.rps:.2f}× the floor, p99 {q.p99_ms:.1f} ms = "
              f"{q.p99_ms / f.p99_ms:.1f}×, CPU {q_cpu:.2f} ms/req: the most a page that reads "
              "its session from the database can reach here")
        for path, (p, cpu_ms) in floor.pages.items():
            print(f"  GET {path} (signed-in learner, node A, same wrk): {p.rps:,.0f} req/s, "
                  f"p99 {p.p99_ms:.1f} ms, CPU {cpu_ms:.2f} ms/req (gunicorn + PostgreSQL)")
            print(f"    throughput ÷ floor {p.rps / f.rps:.2f} (target ≥ 0.5)   p99 ÷ floor "
                  f"{p.p99_ms / f.p99_ms:.1f}× (target ≤ 3×)   CPU ÷ floor "
                  f"{cpu_ms / floor.floor_cpu_ms:.1f}×")
    print(f"\n  check: {report.errors} errors, {sum(report.lost.values())} lost, "
          f"{sum(report.duplicated.values())} duplicated -> {'OK' if report.ok else 'FAILED'}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--run-time", type=int, default=300, help="seconds (default 300: the "
                        "shipped lessons count after 180-240 s of reading, so a shorter run "
                        "ends before any quiz)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="learners arriving per s")
    parser.add_argument("--fault", choices=["postgres"], help="restart PostgreSQL mid-run")
    parser.add_argument("--fault-at", type=float, help="seconds into the run (default 1/3)")
    parser.add_argument("--floor-seconds", type=int, default=10,
                        help="wrk seconds for the floor and the learner page (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    args = parser.parse_args(argv)
    print("starting the cluster (PostgreSQL, Redis, migrations, courses, demo province: a "
          "minute or two; a Celery worker; two gunicorn nodes) ...", flush=True)
    cluster = start_cluster(web_workers=args.workers, web_threads=args.threads,
                            config={"RATELIMIT_SIGNIN": "100000 per minute"})
    try:
        report = run_load(cluster, users=args.users, run_time=args.run_time,
                          spawn_rate=args.spawn_rate, fault=args.fault, fault_at=args.fault_at)
        floor = compare_with_floor(cluster, Load(seconds=args.floor_seconds),
                                   workers=args.workers, threads=args.threads) \
            if args.floor_seconds else None
        print_report(report, floor)
        return 0 if report.ok else 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
