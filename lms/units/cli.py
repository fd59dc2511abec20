"""`flask units load-official` and `flask units import FILE [--dry-run]`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.cli import refuse
from lms.db import transaction
from lms.errors import ValidationFailed, line_problems
from lms.units import importer, service

units_cli = AppGroup("units", help="Org units.")


@units_cli.command("load-official")
def load_official() -> None:
    """Load (or refresh) the 34 provinces and 3,321 communes with their official codes."""
    with transaction():
        counts = service.load_official_units()
    click.echo(f"official units: {counts['created']} created, {counts['updated']} updated")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only list the problems; write nothing.")
def import_file(file: Path, dry_run: bool) -> None:
    """Import schools, classes, agencies and departments from CSV or XLSX."""
    try:
        with transaction(), file.open("rb") as stream:
            report = importer.import_units(None, file.name, stream, dry_run=dry_run)
    except ValidationFailed as exc:
        refuse(line_problems(exc))
    if not report.valid:
        refuse(report.problems)
    verb = "would be" if dry_run else "were"
    click.echo(f"{report.rows} rows: {report.created} {verb} created, {report.updated} "
               f"{verb} updated, {report.unchanged} unchanged")
