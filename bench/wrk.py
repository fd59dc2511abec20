"""Drive wrk from a second process and read back the line printed by wrk_report.lua."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from bench.procs import ROOT, BenchError

SCRIPT = ROOT / "bench" / "wrk_report.lua"


@dataclass(frozen=True)
class Load:
    threads: int = 2
    connections: int = 16
    seconds: int = 10

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.seconds}s"


@dataclass
class WrkResult:
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def run_wrk(url: str, load: Load, headers: dict[str, str], *, method: str = "GET",
            body: str = "") -> WrkResult:
    """One bounded wrk run (its own -d plus a kill after 60 s more); every request the same
    `method` with the same `body` (wrk_report.lua reads both from the environment). Raises
    BenchError when wrk is missing, fails, or prints no result line."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk not found: install the wrk package (make bench does it with apt)")
    command = [wrk, f"-t{load.threads}", f"-c{load.connections}", f"-d{load.seconds}s",
               "--timeout", "10s", "-s", str(SCRIPT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    env = {**os.environ, "BENCH_WRK_METHOD": method, "BENCH_WRK_BODY": body}
    done = subprocess.run([*command, url], capture_output=True, text=True, env=env,
                          timeout=load.seconds + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    values = {k: float(v) for k, v in (pair.split("=") for pair in line.split()[1:])}
    return WrkResult(
        requests=int(values["requests"]), seconds=values["duration_us"] / 1e6,
        non2xx=int(values["non2xx"]),
        socket_errors=int(sum(values[k] for k in ("connect", "read", "write", "timeout"))),
        p50_ms=values["p50_us"] / 1000, p90_ms=values["p90_us"] / 1000,
        p99_ms=values["p99_us"] / 1000, max_ms=values["max_us"] / 1000)
