"""Throwaway databases for a benchmark run: SQLite files in a temporary directory, PostgreSQL
databases on a server started by tests/support/postgres.py; all removed at the end."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.support.postgres import PostgresServer, start_postgres

ENGINES = ("sqlite", "postgresql")


class Scratch:
    """A temporary directory (logs, SQLite files) and, when first asked, a PostgreSQL server.
    Use as a context manager: everything is stopped and removed on exit, error or not."""

    def __init__(self, prefix: str):
        self.directory = Path(tempfile.mkdtemp(prefix=f"hocvuso-bench-{prefix}-"))
        self._postgres: PostgresServer | None = None

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._postgres is not None:
                self._postgres.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def database_url(self, engine: str, name: str) -> str:
        """A new empty database; SQLAlchemy URL."""
        if engine == "sqlite":
            return f"sqlite:///{self.directory / f'{name}.sqlite3'}"
        if engine == "postgresql":
            if self._postgres is None:
                self._postgres = start_postgres()
            return self._postgres.create_database(name)
        raise ValueError(f"unknown engine {engine}")

    def postgres_pid(self) -> int | None:
        """The postmaster, whose children are the backends serving our connections."""
        if self._postgres is None:
            return None
        pid_file = self._postgres.directory / "data" / "postmaster.pid"
        return int(pid_file.read_text().split()[0])

    def path(self, name: str) -> Path:
        return self.directory / name


def driver_target(url: str) -> str:
    """What the floor's plain driver connects to: a file path or a libpq conninfo."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    rest = url.split("://", 1)[1]  # postgres@127.0.0.1:PORT/NAME
    user, _, where = rest.partition("@")
    hostport, _, dbname = where.partition("/")
    host, _, port = hostport.partition(":")
    return f"host={host} port={port} user={user} dbname={dbname}"
