"""`flask people grant ROLE UNIT_CODE --user-id N` for operators (bootstraps the first
system admin). Personal IDs are never taken on the command line: shell history keeps them."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.cli import reports_errors
from lms.db import transaction
from lms.people import service
from lms.people.models import Role

people_cli = AppGroup("people", help="People and roles.")


@people_cli.command("grant")
@reports_errors
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.argument("unit_code")
@click.option("--user-id", type=int, required=True)
def grant(role: str, unit_code: str, user_id: int) -> None:
    """Grant ROLE on UNIT_CODE to a user, as the system."""
    with transaction():
        granted = service.grant_role(None, role=Role(role), unit_code=unit_code,
                                     user_id=user_id)
    click.echo(f"granted {granted.role.value} on {unit_code} to user {user_id}")
