"""The request's one commit (or rollback), SQLite pragmas, UTC datetimes, and subtree queries
that are index range scans on both engines."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import abort
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from lms.app import create_app
from lms.db import get_db, session
from lms.people.models import User
from lms.units.models import Unit, subtree_bounds
from lms.units.queries import find_unit_by_code, subtree_query
from tests.conftest import TEST_CONFIG


@pytest.fixture
def lifecycle_app(database_url, db):
    """A second app on the same test transaction, with routes that write and then fail."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    get_db(app).session_factory = sessionmaker(bind=db.connection(), expire_on_commit=False,
                                               join_transaction_mode="create_savepoint")

    def write(subject):
        session.add(User(issuer="lifecycle", subject=subject, full_name="Phạm Văn Đức"))
        session.flush()

    @app.post("/ok")
    def ok():
        write("ok")
        return "written"

    @app.post("/boom")
    def boom():
        write("boom")
        raise RuntimeError("after the write")

    @app.post("/refused")
    def refused():
        write("refused")
        abort(409)

    yield app
    get_db(app).dispose()


def subjects(db):
    return set(db.execute(select(User.subject).where(User.issuer == "lifecycle")).scalars())


def test_request_commits_once_or_rolls_back(lifecycle_app, db):
    lifecycle_app.config["WTF_CSRF_ENABLED"] = False
    client = lifecycle_app.test_client()
    assert client.post("/ok").status_code == 200
    assert client.post("/boom").status_code == 500
    assert client.post("/refused").status_code == 409
    assert subjects(db) == {"ok"}


def test_unexpected_errors_are_clean_pages(lifecycle_app):
    lifecycle_app.config["WTF_CSRF_ENABLED"] = False
    response = lifecycle_app.test_client().post("/boom")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert b"RuntimeError" not in response.data and b"Traceback" not in response.data


def test_sqlite_pragmas(app, db, database_url):
    if not database_url.startswith("sqlite"):
        assert db.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
        return
    assert db.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert db.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert db.execute(text("PRAGMA busy_timeout")).scalar_one() == 10000


def test_datetimes_come_back_aware_utc(make, db):
    user = make.user()
    db.expire(user)
    assert user.created_at.tzinfo is not None
    assert user.created_at.utcoffset().total_seconds() == 0
    with pytest.raises(Exception, match="naive"):
        user.created_at = datetime(2026, 1, 1)  # noqa: DTZ001 (the point of the test)
        db.flush()
    db.rollback()


def test_subtree_is_the_prefix_set(make, db):
    province = find_unit_by_code("08")
    school = make.unit("school", "00691", code="SUB-S")
    make.unit("class", school, code="SUB-S-1")
    make.unit("school", "00691", code="SUB-S-X")  # a sibling whose code extends "SUB-S"
    codes = set(db.execute(subtree_query(school).with_only_columns(Unit.code)).scalars())
    assert codes == {"SUB-S", "SUB-S-1"}
    count = db.execute(subtree_query(province).with_only_columns(func.count())).scalar_one()
    assert count == 124 + 1 + 3  # its communes, itself, the test units
    low, high = subtree_bounds("/BGDDT/08/")
    assert (low, high) == ("/BGDDT/08/", "/BGDDT/080")


def test_subtree_query_uses_the_path_index(db, database_url):
    low, high = subtree_bounds("/BGDDT/08/")
    sql = "SELECT id FROM units WHERE path >= :low AND path < :high"
    params = {"low": low, "high": high}
    if database_url.startswith("sqlite"):
        rows = db.execute(text("EXPLAIN QUERY PLAN " + sql), params)
        plan = " ".join(str(r[-1]) for r in rows)
        assert plan.startswith("SEARCH units USING") and "(path>? AND path<?)" in plan, plan
    else:
        db.execute(text("SET LOCAL enable_seqscan = off"))  # tiny table: force the choice
        plan = " ".join(r[0] for r in db.execute(text("EXPLAIN " + sql), params))
        assert "uq_units_path" in plan, plan
