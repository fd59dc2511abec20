"""Child processes for the benchmarks: a clean LMS_* environment, commands timed with their own
peak RSS (bench/peak_rss.py), and gunicorn servers on 127.0.0.1 that are always stopped."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-key-for-a-throwaway-database-only"  # noqa: S105 (throwaway DB)


class BenchError(RuntimeError):
    """A benchmark cannot give a trustworthy figure (wrong cookie, failed command ...)."""


def app_env(database_url: str) -> dict[str, str]:
    """The caller's environment without any LMS_* variable (never the operator's database),
    plus the throwaway database, a fixed secret and development mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(LMS_DATABASE_URL=database_url, LMS_SECRET_KEY=BENCH_SECRET,
               LMS_ENV="development", LMS_CONFIG_FILE="", PYTHONUNBUFFERED="1")
    return env


def app_config(database_url: str) -> dict[str, str]:
    """The same settings as app_env, for a create_app() inside the bench process."""
    return {"DATABASE_URL": database_url, "SECRET_KEY": BENCH_SECRET, "ENV": "development",
            "CONFIG_FILE": ""}


def flask(database_url: str, *args: str, timeout: float = 600) -> str:
    """Run `flask --app wsgi ARGS` against the throwaway database; its output, or BenchError."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    done = subprocess.run(command, cwd=ROOT, env=app_env(database_url), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise BenchError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare_database(database_url: str, *, demo: bool, courses: tuple[str, ...] = ()) -> None:
    """Schema by the real migrations, the official units, the given course packages (folders
    relative to the repository) and, if asked, the demo province."""
    flask(database_url, "db", "upgrade")
    flask(database_url, "units", "load-official")
    for package in courses:
        flask(database_url, "courses", "import", package)
    if demo:
        flask(database_url, "demo", "load")


@dataclass
class Measured:
    seconds: float
    peak_rss_kib: int
    stdout: str


def run_measured(command: list[str], *, env: dict[str, str], timeout: float,
                 log: Path) -> Measured:
    """Run one command; its wall time and its own peak RSS (ru_maxrss of exactly that
    process, taken by bench/peak_rss.py). Killed after `timeout` seconds, or when we are
    interrupted. Raises BenchError on a non-zero exit or a timeout."""
    rss_file = log.with_suffix(".rss")
    with log.open("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bench.peak_rss", str(rss_file),
                                 *command], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except BaseException as exc:  # a timeout, Ctrl-C, SIGTERM: its own session, stop it too
            _kill_group(proc.pid)
            proc.wait()
            if isinstance(exc, subprocess.TimeoutExpired):
                out.seek(0)
                raise BenchError(f"{' '.join(command)} killed after {timeout:.0f} s:\n"
                                 f"{out.read()[-4000:]}") from None
            raise
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited with {proc.returncode}:\n{text[-4000:]}")
    return Measured(seconds, int(rss_file.read_text()), text)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the group of a child we started, by its id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn APP -w 2 -k sync` on 127.0.0.1: started, waited for, measured, stopped."""

    def __init__(self, app: str, env: dict[str, str], log: Path, workers: int = 2):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app, "--workers", str(workers),
             "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.workers = workers

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        """Until every worker is up and `path` answers 200; BenchError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited early:\n{self.log.read_text()[-4000:]}")
            if get_status(self.port, path) == 200 and len(self.pids()) > self.workers:
                return
            time.sleep(0.2)
        raise BenchError(f"gunicorn not ready after {timeout}s:\n{self.log.read_text()[-4000:]}")

    def pids(self) -> list[int]:
        """The master and its workers."""
        return [self.proc.pid, *_children(self.proc.pid)]

    def peak_rss_kib(self) -> tuple[int, int]:
        """(sum over master and workers, largest single process) of VmHWM, the peak RSS."""
        peaks = [_vm_hwm(pid) for pid in self.pids()]
        return sum(peaks), max(peaks)

    def cpu_seconds(self) -> float:
        """User + system CPU used so far by the master and its live workers."""
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # gunicorn: graceful shutdown of master and workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait(timeout=15)
        self._log_file.close()


def get_status(port: int, path: str) -> int | None:
    """The status of one GET on 127.0.0.1:port, or None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int | None) -> float:
    """User + system CPU used so far by a process and its live children."""
    if pid is None:
        return 0.0
    return sum(_cpu_seconds(p) for p in [pid, *_children(pid)])


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def first_demo_pupil():
    """The first learner (by id) of a demo class; inside an app context."""
    from sqlalchemy import select

    from lms.db import session
    from lms.people.models import Role, RoleGrant, User
    from lms.units.models import Unit, UnitKind

    return session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Unit, Unit.id == RoleGrant.unit_id)
        .where(RoleGrant.role == Role.LEARNER, Unit.code.startswith("DEMO-"),
               Unit.kind == UnitKind.CLASS, RoleGrant.revoked_at.is_(None))
        .order_by(User.id).limit(1)).scalar_one()
