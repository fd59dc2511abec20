"""Session app per database engine (SQLite and PostgreSQL, both always), schema built by the
real migrations, and one rolled-back transaction per test (STYLE.md rule 8)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy.orm import sessionmaker

from lms.app import create_app
from lms.cli import alembic_config
from lms.db import get_db, transaction
from tests.support.postgres import PostgresServer, start_postgres

# The suite configures the app itself: settings from the shell (LMS_DEV_IDP, LMS_ENV ...) must
# not change what a test sees.
for _name in [n for n in os.environ if n.startswith("LMS_")]:
    del os.environ[_name]

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "CONFIG_FILE": "",
    # One app serves the whole session and user ids come back after each rolled-back test, so
    # real allowances would leak from test to test; tests of a limit set a tight one themselves
    # (tests/lms/test_rate_limits.py).
    "RATELIMIT_SIGNIN": "1000000 per minute",
    "RATELIMIT_EXPORT": "1000000 per minute",
    "RATELIMIT_UPLOAD": "1000000 per minute",
}
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()  # raises (never skips) when PostgreSQL is missing
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database("hocvuso_test")


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    with app.app_context():
        command.upgrade(alembic_config(database_url), "head")
        from lms.units.service import load_official_units

        with transaction():
            load_official_units()
    yield app
    get_db(app).dispose()


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters are keyed by client address or user id, and user ids repeat across
    rolled-back tests: every test starts with none spent (tests/lms/test_rate_limits.py sets
    tight limits itself)."""
    from lms.limits import limiter

    limiter.reset()
    yield


@pytest.fixture
def db(app):
    """Everything a test writes lives in one transaction that is rolled back afterwards;
    request commits become savepoint releases inside it."""
    database = get_db(app)
    connection = database.engine.connect()
    outer = connection.begin()
    original = database.session_factory
    database.session_factory = sessionmaker(bind=connection, expire_on_commit=False,
                                            join_transaction_mode="create_savepoint")
    ctx = app.app_context()
    ctx.push()
    try:
        from lms.db import session

        yield session
    finally:
        ctx.pop()
        database.session_factory = original
        outer.rollback()
        connection.close()


class RequestClient(FlaskClient):
    """Each request in a fresh app context, as in production: the test's own app context (and
    its `g`, which Flask-Login caches the user in) must not leak into requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = RequestClient
    return app.test_client()


_serial = itertools.count(1)


@pytest.fixture
def make(db):
    """Small factories: make.unit(...), make.user(...), make.grant(...)."""
    from tests.support.factories import Factories

    return Factories(db, _serial)
