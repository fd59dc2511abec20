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


@people_cli.command("disable")
@reports_errors
@click.option("--user-id", type=int, required=True)
def disable(user_id: int) -> None:
    """Disable a user: every session of theirs stops at the next request."""
    with transaction():
        service.set_active(user_id, False)
    click.echo(f"user {user_id} disabled")


@people_cli.command("enable")
@reports_errors
@click.option("--user-id", type=int, required=True)
def enable(user_id: int) -> None:
    """Re-enable a disabled user."""
    with transaction():
        service.set_active(user_id, True)
    click.echo(f"user {user_id} enabled")
