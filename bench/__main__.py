"""`python -m bench [all|web|generate|roster|figures|certificates|pages] [--learners N]
[--rows N] [--count N] [--requests N] [--engines ...]`;
exits 1 when a benchmark cannot give a trustworthy figure. Stops everything it started."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from bench.engines import ENGINES
from bench.procs import BenchError
from bench.report import save
from bench.wrk import Load


def _engines(value: str) -> list[str]:
    chosen = [e.strip() for e in value.split(",") if e.strip()]
    unknown = set(chosen) - set(ENGINES)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"engines are {', '.join(ENGINES)}")
    return chosen


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="?", default="all",
                        choices=["all", "web", "generate", "roster", "figures", "certificates",
                                 "pages"])
    parser.add_argument("--engines", type=_engines, default=list(ENGINES),
                        help="comma-separated: sqlite,postgresql (default: both)")
    parser.add_argument("--learners", type=int, default=1_000_000,
                        help="generate, figures: learners to write (default: 1,000,000)")
    parser.add_argument("--rows", type=int, default=100_000,
                        help="roster: lines in the roster file (default: 100,000)")
    parser.add_argument("--count", type=int, default=1_000,
                        help="certificates: certificates to issue (default: 1,000)")
    parser.add_argument("--requests", type=int, default=300, choices=range(1, 100_001),
                        metavar="N", help="pages: requests timed per page (default: 300)")
    parser.add_argument("--profile", action="store_true",
                        help="roster, pages: afterwards, run under cProfile; top costs")
    parser.add_argument("--duration", type=int, default=10, choices=range(1, 121),
                        metavar="SECONDS", help="web: wrk seconds per endpoint (default: 10)")
    parser.add_argument("--connections", type=int, default=16, choices=range(1, 257),
                        metavar="N", help="web: wrk connections (default: 16)")
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    if not 1 <= args.rows <= 10_000_000:
        parser.error("--rows must be between 1 and 10,000,000")
    if not 1 <= args.count <= 100_000:
        parser.error("--count must be between 1 and 100,000")
    return args


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers get stopped


def main(argv: list[str]) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _stop)
    results: dict[str, Any] = {"argv": argv, "load_average_at_start": os.getloadavg()[0]}
    print(f"bench: {os.cpu_count()} CPUs; 1-minute load average {os.getloadavg()[0]:.2f} at "
          "start (anything else running on the machine moves the figures; the ratios less)")
    try:
        if args.which in ("all", "web"):
            from bench import web

            load = Load(threads=2, connections=args.connections, seconds=args.duration)
            results["web"] = web.run(args.engines, load)
        if args.which in ("all", "generate"):
            from bench import generate

            results["generate"] = generate.run(args.engines, args.learners)
        if args.which in ("all", "figures"):
            from bench import figures

            results["figures"] = figures.run(args.engines, args.learners)
        if args.which == "roster":  # not part of "all" (yet): a feature benchmark
            from bench import roster

            results["roster"] = roster.run(args.engines, args.rows, args.profile)
        if args.which == "certificates":  # a feature benchmark too; no database involved
            from bench import certificates

            results["certificates"] = certificates.run(args.count)
        if args.which == "pages":  # in process, through the test client: CPU a page costs
            from bench import pages

            results["pages"] = pages.run(args.engines, args.requests, args.profile)
    except BenchError as exc:
        print(f"\nbench: FAILED: {exc}", file=sys.stderr)
        return 1
    results["load_average_at_end"] = os.getloadavg()[0]
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; results: {save(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
