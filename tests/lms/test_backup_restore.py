"""Backup and restore (docs/operations.md): a PostgreSQL database with a commune, schools, a
roster, an assignment, completions and a locked month is dumped with `pg_dump -Fc`, restored
with `pg_restore` into a fresh database, and the app run against the restored one gives the
same report figures and byte-identical exports of the locked snapshot. PostgreSQL only:
pg_dump is the production backup tool."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from enrollment.reports import snapshots
from lms.app import create_app
from lms.cli import alembic_config
from lms.db import get_db, session, transaction
from lms.units.service import load_official_units
from tests.conftest import TEST_CONFIG, RequestClient
from tests.enrollment.test_snapshots import COMMUNE, JUNE_3, Clock, build_commune
from tests.support.factories import Factories, login
from tests.support.postgres import _bin

FORMATS = ("csv", "xlsx", "pdf")
PROVINCE = "08"


def postgres_tool(server, name: str, *args: str) -> None:
    """Run a PostgreSQL client binary as the harness does (as `postgres` when we are root)."""
    command_line = [_bin(name), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                    *args]
    if server.user:
        command_line = ["runuser", "-u", server.user, "--", *command_line]
    done = subprocess.run(command_line, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{name} failed:\n{done.stderr}"


def app_on(url: str, storage: Path):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "STORAGE_DIR": str(storage)})
    app.test_client_class = RequestClient
    return app


def outputs(app, token: str, public_id: str) -> dict[str, object]:
    """What an officer gets from the app: figures of the commune and its province, and the
    locked snapshot's three exports."""
    client = app.test_client()
    with client.session_transaction() as cookie:  # the session row came with the backup
        cookie["_user_id"], cookie["_fresh"] = token, True
    found: dict[str, object] = {}
    for code in (COMMUNE, PROVINCE):
        response = client.get(f"/api/v1/units/{code}/figures")
        assert response.status_code == 200, response.get_json()
        found[code] = response.get_json()
    for fmt in FORMATS:
        response = client.get(f"/snapshots/{public_id}.{fmt}")
        assert response.status_code == 200, response.data[:200]
        found[fmt] = response.data
    return found


def test_a_restored_backup_gives_the_same_figures_and_identical_exports(
        postgres_server, tmp_path, monkeypatch):
    source_url = postgres_server.create_database("hocvuso_backup_source")
    storage = tmp_path / "storage"
    source = app_on(source_url, storage)
    with source.app_context():
        command.upgrade(alembic_config(source_url), "head")
        with transaction():
            load_official_units()
        with transaction():
            world = build_commune(Factories(session, itertools.count(1)), tmp_path)
            officer = world["province_officer"]
            Clock(monkeypatch, JUNE_3)
            locked = snapshots.lock(world["officer"], COMMUNE, "2026-05")
            token = login(source.test_client(), officer)
            public_id = locked.public_id
    monkeypatch.undo()
    before = outputs(source, token, public_id)
    assert before[COMMUNE]["figures"]["expected"] == 6
    assert before[COMMUNE]["figures"]["completed"] == 2
    assert before["pdf"].startswith(b"%PDF") and before["xlsx"].startswith(b"PK")

    # The backup: one custom-format file, written where the postgres user may write.
    dump = postgres_server.directory / "hocvuso.dump"
    postgres_tool(postgres_server, "pg_dump", "-Fc", "--no-owner", "-f", str(dump),
                  "hocvuso_backup_source")
    get_db(source).dispose()

    # The restore: into a new, empty database; the app runs on it as it is.
    restored_url = postgres_server.create_database("hocvuso_restored")
    postgres_tool(postgres_server, "pg_restore", "--no-owner", "--exit-on-error",
                  "-d", "hocvuso_restored", str(dump))
    restored = app_on(restored_url, storage)
    with restored.app_context():
        command.upgrade(alembic_config(restored_url), "head")  # already at head: a no-op
        with transaction():
            version = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version
    after = outputs(restored, token, public_id)
    for key in (COMMUNE, PROVINCE):
        assert after[key] == before[key], key
    for fmt in FORMATS:
        assert after[fmt] == before[fmt], f"the restored {fmt} export differs"
    get_db(restored).dispose()


@pytest.fixture(autouse=True)
def _no_leftover_databases(postgres_server):
    yield
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={postgres_server.port} user=postgres "
                         "dbname=postgres", autocommit=True) as conn:
        for name in ("hocvuso_backup_source", "hocvuso_restored"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
