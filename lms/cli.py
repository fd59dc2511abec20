"""CLI root: `flask db upgrade|downgrade|current|revision` over Alembic in lms/migrations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup

from lms.errors import LmsError

MIGRATIONS = Path(__file__).parent / "migrations"

db_cli = AppGroup("db", help="Database schema (Alembic).")


def reports_errors(command_function: Callable[..., Any]) -> Callable[..., Any]:
    """A service's LmsError becomes a one-line message and exit status 1, not a traceback."""

    @functools.wraps(command_function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command_function(*args, **kwargs)
        except LmsError as exc:
            raise click.ClickException(exc.message or exc.code) from exc

    return wrapper


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Revision ids are a date plus a counter, so files sort by date:
    # 20261122_0001_units_and_people.py
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url",
                           (url or current_app.config["DATABASE_URL"]).replace("%", "%%"))
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" for an empty database)."""
    command.downgrade(alembic_config(), revision)


@db_cli.command("current")
def current() -> None:
    """Print the revision the database is at."""
    command.current(alembic_config())


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--rev-id", required=True, help="date-based id, e.g. 20261122_0002")
def revision(message: str, rev_id: str) -> None:
    """Autogenerate a new revision against the models."""
    command.revision(alembic_config(), message=message, autogenerate=True, rev_id=rev_id)


def refuse(problems: list[dict]) -> None:
    """Print every bad line of a refused import and exit with status 1 (nothing written)."""
    for problem in problems:
        click.echo(f"line {problem['line']}: {problem['column']}: {problem['message']}",
                   err=True)
    click.echo(f"refused: {len(problems)} problem(s); nothing was written", err=True)
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
