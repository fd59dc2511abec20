"""Alembic environment: our metadata, our engine settings (SQLite pragmas included)."""

from alembic import context
from sqlalchemy.types import TypeDecorator

from lms.app import load_models
from lms.db import make_engine

metadata = load_models()

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # tests hand in their own connection
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_, obj, autogen_context):
    """Autogenerate writes plain SQLAlchemy types, so revisions never import our code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      render_item=_render_item, compare_type=True,
                      transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flask db upgrade`")
run_migrations()
