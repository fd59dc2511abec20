"""The migrations build exactly the models' schema on both engines, and downgrade to empty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from lms.app import load_models
from lms.cli import MIGRATIONS, alembic_config
from lms.db import make_engine

metadata = load_models()


@pytest.fixture
def empty_database(database_url, request, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database("hocvuso_migrations")


def test_upgrade_matches_models_and_downgrade_empties(app, empty_database):
    with app.app_context():
        command.upgrade(alembic_config(empty_database), "head")
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    metadata)
            assert diff == []
            assert set(inspect(conn).get_table_names()) == set(metadata.tables) | {
                "alembic_version"}
        with app.app_context():
            command.downgrade(alembic_config(empty_database), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_revisions_are_date_named_with_a_downgrade():
    script = ScriptDirectory(str(MIGRATIONS))
    revisions = list(script.walk_revisions())
    assert revisions, "no migrations"
    assert len(script.get_heads()) == 1
    for revision in revisions:
        assert re.fullmatch(r"20\d{6}_\d{4}", revision.revision), revision.revision
        path = Path(revision.path)
        assert path.name.startswith(revision.revision + "_")
        source = path.read_text(encoding="utf-8")
        body = source.split("def downgrade() -> None:", 1)[1]
        assert body.strip() and body.strip() != "pass", f"{path.name} has no downgrade"


def test_constraint_names_follow_the_convention(app):
    names = set()
    for table in metadata.tables.values():
        for constraint in table.constraints:
            names.add(constraint.name)
    assert all(re.match(r"^(pk|uq|fk|ck)_", str(n)) for n in names), names
