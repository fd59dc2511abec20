"""`flask rosters import UNIT_CODE FILE [--dry-run]`: prints every bad line, exit 1 if refused."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from enrollment.rosters.importer import import_roster
from lms.cli import refuse, reports_errors
from lms.db import transaction
from lms.errors import ValidationFailed, line_problems

rosters_cli = AppGroup("rosters", help="Rosters of the people who must complete.")


@rosters_cli.command("import")
@reports_errors
@click.argument("unit_code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check; write nothing.")
def import_file(unit_code: str, file: Path, dry_run: bool) -> None:
    """Replace UNIT_CODE's roster with FILE (CSV or XLSX), all lines or none."""
    try:
        with transaction():
            report = import_roster(None, unit_code, file.name, file.read_bytes(),
                                   dry_run=dry_run)
    except ValidationFailed as exc:
        refuse(line_problems(exc))
    if not report.valid:
        refuse(report.problems)
    verb = "would be" if dry_run else "were"
    click.echo(f"{report.rows} rows: {report.added} {verb} added, {report.removed} {verb} "
               f"removed, {report.changed} {verb} changed, {report.unchanged} unchanged")
