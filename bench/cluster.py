"""A two-node cluster on 127.0.0.1: one PostgreSQL, one Redis, one Celery worker and N gunicorn
instances (lms/gunicorn_conf.py) sharing them. `python -m bench.cluster` (make run-cluster)
serves it until Ctrl-C; `start_cluster` / `Cluster.stop` are used by bench/load.py and tests."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import ROOT, BenchError, free_port, get_status, tree_cpu_seconds
from tests.support.postgres import PostgresServer, _bin, start_postgres
from tests.support.redis_server import RedisServer, start_redis

CLUSTER_SECRET = "cluster-secret-key-for-a-throwaway-database-only"  # noqa: S105 (throwaway)
COURSE_PACKAGES = ("courses/content/an-toan-giao-thong", "courses/content/an-toan-khong-gian-mang",
                   "courses/content/chinh-quyen-so")


@dataclass
class Node:
    url: str
    port: int
    proc: subprocess.Popen
    log: Path

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)


@dataclass
class Cluster:
    directory: Path
    database_url: str
    postgres: PostgresServer
    owns_postgres: bool
    redis: RedisServer
    ports: list[int]
    config_file: Path
    nodes: list[Node] = field(default_factory=list)
    worker: subprocess.Popen | None = None
    _logs: list[Any] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def issuer(self) -> str:
        """Node A's development identity provider: the issuer of every demo account."""
        return f"{self.urls[0]}/dev-idp"

    def env(self, **extra: str) -> dict[str, str]:
        """The caller's environment without any LMS_* variable, plus the cluster's file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        env.update(LMS_CONFIG_FILE=str(self.config_file), PYTHONUNBUFFERED="1", **extra)
        return env

    def app_config(self) -> dict[str, Any]:
        """Overrides for a create_app() inside this process, equal to what the nodes read."""
        return {"CONFIG_FILE": str(self.config_file),
                **{k.upper(): v for k, v in _read_toml(self.config_file).items()}}

    def flask(self, *args: str, timeout: float = 900) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                              cwd=ROOT, env=self.env(), capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def postgres_pid(self) -> int:
        return int((self.postgres.directory / "data" / "postmaster.pid").read_text().split()[0])

    def restart_postgres(self, mode: str = "fast") -> None:
        """`pg_ctl restart` as the server's owner: every connection is cut, the server comes
        back on the same port with the same options."""
        self.pg_ctl("restart", "-m", mode)

    def pg_ctl(self, action: str, *options: str) -> None:
        """`pg_ctl ACTION` (stop, start, restart) on the cluster's server, waiting for it."""
        data = self.postgres.directory / "data"
        self.postgres._run(_bin("pg_ctl"), "-D", str(data), "-w", *options, "-l",
                           str(self.postgres.directory / "server.log"), action)

    def stop(self) -> None:
        """Everything this cluster started, in reverse order; safe to call twice."""
        for node in self.nodes:
            _terminate(node.proc, timeout=20)
        if self.worker is not None:
            _terminate(self.worker, timeout=20)
        with contextlib.suppress(Exception):
            self.redis.stop()
        if self.owns_postgres:
            with contextlib.suppress(Exception):
                self.postgres.stop()
        for handle in self._logs:
            handle.close()
        self._logs.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


def _toml(values: dict[str, Any]) -> str:
    """Enough TOML for our settings: strings, numbers, booleans and lists of strings."""
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = str(value)
        else:
            text = json.dumps(value)  # a JSON string or list of strings is valid TOML
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def _terminate(proc: subprocess.Popen, timeout: float) -> None:
    if proc.poll() is None:
        proc.terminate()  # gunicorn and celery: graceful shutdown
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group of a child we started
            proc.wait(timeout=timeout)


def prepare_demo(cluster: Cluster) -> None:
    """Migrations, the official units, the shipped courses and the demo province (whose
    accounts belong to node A's identity provider)."""
    cluster.flask("db", "upgrade")
    cluster.flask("units", "load-official")
    for package in COURSE_PACKAGES:
        cluster.flask("courses", "import", package)
    cluster.flask("demo", "load")


def start_cluster(*, nodes: int = 2, postgres: PostgresServer | None = None,
                  database: str = "hocvuso_cluster",
                  prepare: Callable[[Cluster], None] | None = prepare_demo,
                  web_workers: int = 2, web_threads: int = 4, worker: bool = True,
                  config: dict[str, Any] | None = None, quiet: bool = False) -> Cluster:
    """Start (or reuse the given) PostgreSQL with a new database, a Redis, the database's
    preparation, a Celery worker and `nodes` gunicorn instances; returns once every node's
    /readyz answers 200. Stops what it started and raises BenchError on any failure."""
    directory = Path(tempfile.mkdtemp(prefix="hocvuso-cluster-"))
    owns = postgres is None
    server = postgres or start_postgres()
    redis = None
    cluster = None
    try:
        redis = start_redis()
        ports = [free_port() for _ in range(nodes)]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        settings: dict[str, Any] = {
            "ENV": "development", "SECRET_KEY": CLUSTER_SECRET,
            "DATABASE_URL": server.create_database(database),
            "STORAGE_DIR": str(directory / "storage"),  # shared: dev IdP key, job results
            "BROKER_URL": redis.url(0),
            "RATELIMIT_STORAGE": redis.url(1),  # counters shared by every node
            "DEV_IDP": True, "DEV_IDP_ISSUER": f"{urls[0]}/dev-idp",
            "DEV_IDP_REDIRECT_URIS": [f"{url}/auth/callback" for url in urls],
            "PUBLIC_URL": urls[0],
            **(config or {})}
        config_file = directory / "hocvuso.toml"
        config_file.write_text(_toml(settings), encoding="utf-8")
        config_file.chmod(0o600)
        cluster = Cluster(directory, settings["DATABASE_URL"], server, owns, redis, ports,
                          config_file)
        if prepare is not None:
            prepare(cluster)
        if worker:
            log = (directory / "worker.log").open("w")
            cluster._logs.append(log)
            cluster.worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "lms.jobs.worker", "worker",
                 "--concurrency", "1", "--loglevel", "info"],
                cwd=ROOT, env=cluster.env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        for index, port in enumerate(ports):
            log = (directory / f"node{index}.log").open("w")
            cluster._logs.append(log)
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:lms.gunicorn_conf", "wsgi:app"],
                cwd=ROOT, env=cluster.env(LMS_BIND=f"127.0.0.1:{port}",
                                          LMS_WEB_WORKERS=str(web_workers),
                                          LMS_WEB_THREADS=str(web_threads),
                                          LMS_WEB_ACCESS_LOG="" if quiet else "-"),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            cluster.nodes.append(Node(urls[index], port, proc, directory / f"node{index}.log"))
        for node in cluster.nodes:
            _wait_ready(node)
        return cluster
    except BaseException:
        if cluster is not None:
            cluster.stop()
        else:
            if redis is not None:
                redis.stop()
            if owns:
                server.stop()
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _wait_ready(node: Node, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.proc.poll() is not None:
            raise BenchError(f"gunicorn on {node.url} exited:\n{node.log.read_text()[-4000:]}")
        if get_status(node.port, "/readyz") == 200:
            return
        time.sleep(0.2)
    raise BenchError(f"{node.url} not ready after {timeout:.0f} s:\n"
                     f"{node.log.read_text()[-4000:]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--nodes", type=int, default=2, choices=range(1, 9))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    print("starting PostgreSQL, Redis, the database (migrations, official units, courses, "
          "demo province: a minute or two), a Celery worker and the web nodes ...", flush=True)
    cluster = start_cluster(nodes=args.nodes, web_workers=args.workers,
                            web_threads=args.threads)
    try:
        print("")
        for index, url in enumerate(cluster.urls):
            print(f"  node {'ABCDEFGH'[index]}: {url}/  (sign in: {url}/auth/login)")
        print(f"  PostgreSQL: {cluster.database_url}")
        print(f"  Redis: {cluster.redis.url()}   logs: {cluster.directory}")
        print("  Ctrl-C stops everything.\n", flush=True)
        while all(node.proc.poll() is None for node in cluster.nodes):
            time.sleep(1)
        print("a web node exited; stopping the cluster", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
