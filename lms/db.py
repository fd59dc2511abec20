"""Engine, declarative base with a constraint naming convention, and the one session per
request / command / job. Services use `session` and flush; only the owner commits."""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import DateTime, Enum, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

T = TypeVar("T")
log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store timezone-aware UTC (STYLE.md rule 10)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def str_enum(cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """An enum stored as its value in a VARCHAR with a CHECK constraint: readable in SQL and
    cheap to extend (a native PostgreSQL enum type needs its own migration per value)."""
    return Enum(cls, name=name, native_enum=False, length=length, create_constraint=True,
                values_callable=lambda members: [m.value for m in members])


def create_once(find: Callable[[], T | None], create: Callable[[], T]) -> T:
    """The existing row, or a new one inserted in a savepoint; when a concurrent transaction
    inserts the same unique key first, its row is returned instead of an error."""
    existing = find()
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            row = create()
            session.add(row)
    except IntegrityError:
        row = find()
        if row is None:
            raise
    return row


def utcnow() -> datetime:
    return datetime.now(UTC)


def path_string(length: int = 255) -> String:
    """A byte-ordered string column: materialised paths compare and range-scan as bytes."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; hand it to
        # SQLAlchemy (docs: "Serializable isolation / Savepoints / Transactional DDL").
        engine = create_engine(url, echo=echo, connect_args={"isolation_level": None,
                                                             "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_begin(conn: Any) -> None:
    """SQLite in WAL mode cannot upgrade a read transaction to a write once another writer has
    committed ("database is locked" at once, whatever busy_timeout says). A request that will
    write therefore takes the write lock up front: unsafe methods, commands and jobs, and the
    GET views that declare it (`needs_write_lock`)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _will_write() else "BEGIN")


def _will_write() -> bool:
    if not has_request_context():
        return True
    return request.method not in SAFE_METHODS or bool(unit_of_work().get("write_lock"))


def needs_write_lock() -> None:
    """Call first thing in a GET view that writes (an OAuth callback, say)."""
    unit_of_work()["write_lock"] = True


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _is_memory(dbapi_connection: Any) -> bool:
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    return not row or not row[2]


class Database:
    """Per-app holder of the engine and the session factory (tests swap the factory)."""

    def __init__(self, url: str, echo: bool = False):
        self.engine = make_engine(url, echo=echo)
        self.session_factory: sessionmaker[Session] = sessionmaker(self.engine,
                                                                   expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["lms_db"]


def unit_of_work() -> dict[str, Any]:
    """State that lives exactly as long as the current request, or else the app context
    (a CLI command or a job). Not `g`: an app context may outlive several requests."""
    if has_request_context():
        return request.environ.setdefault("lms.unit_of_work", {})
    if not has_app_context():
        raise RuntimeError("no app context: the session belongs to a request, command or job")
    return g.setdefault("lms_unit_of_work", {})


def _get_session() -> Session:
    store = unit_of_work()
    if "session" not in store:
        store["session"] = get_db().session_factory()
    return store["session"]


session: Session = LocalProxy(_get_session)  # type: ignore[assignment]


def after_commit(callback: Callable[[], Any]) -> None:
    """Run callback once the current request, command or job has committed (DESIGN.md: side
    effects after commit); a rollback drops it. A failing callback is logged, never raised:
    the data is already committed."""
    unit_of_work().setdefault("after_commit", []).append(callback)


def _run_after_commit(store: dict[str, Any]) -> None:
    for callback in store.pop("after_commit", []):
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")


@contextlib.contextmanager
def transaction() -> Iterator[Session]:
    """For CLI commands and jobs: commit once at the end, roll back on any error."""
    current = _get_session()
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        unit_of_work().pop("after_commit", None)
        raise
    _run_after_commit(unit_of_work())


def init_app(app: Flask) -> None:
    database = Database(app.config["DATABASE_URL"], echo=app.config["DATABASE_ECHO"])
    app.extensions["lms_db"] = database

    @app.after_request
    def _commit(response):  # the request's one commit (STYLE.md rule 3)
        store = unit_of_work()
        current = store.pop("session", None)
        if current is not None:
            try:
                # A view may keep its writes on an error answer (an OAuth code is used up
                # even when the exchange is refused); everything else rolls back.
                if response.status_code < 400 or store.get("commit_on_error"):
                    current.commit()
                else:
                    current.rollback()
                    store.pop("after_commit", None)
            except BaseException:
                store.pop("after_commit", None)
                raise
            finally:
                current.close()
            _run_after_commit(store)
        return response

    @app.teardown_request
    def _close_request(_exc: BaseException | None) -> None:
        store = unit_of_work()
        store.pop("after_commit", None)
        _discard(store.pop("session", None))

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        store = g.get("lms_unit_of_work", {})
        store.pop("after_commit", None)
        _discard(store.pop("session", None))


def _discard(current: Session | None) -> None:
    if current is not None:
        current.rollback()
        current.close()
