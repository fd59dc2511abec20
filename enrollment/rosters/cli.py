"""`flask rosters import UNIT_CODE FILE [--dry-run]`: prints every bad line, exit 1 if refused."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from enrollment.rosters.importer import import_roster
from lms.cli import reports_errors
from lms.db import transaction
from lms.errors import ValidationFailed

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
        errors = exc.errors or {}
        problems = errors.get("lines") or [
            {"line": "-", "column": k, "message": "; ".join(map(str, v))}
            for k, v in errors.items()]
        _print(problems)
        raise SystemExit(1) from exc
    if not report.valid:
        _print(report.problems)
        raise SystemExit(1)
    verb = "would be" if dry_run else "were"
    click.echo(f"{report.rows} rows: {report.added} {verb} added, {report.removed} {verb} "
               f"removed, {report.changed} {verb} changed, {report.unchanged} unchanged")


def _print(problems: list[dict]) -> None:
    for problem in problems:
        click.echo(f"line {problem['line']}: {problem['column']}: {problem['message']}",
                   err=True)
    click.echo(f"refused: {len(problems)} problem(s); nothing was written", err=True)
