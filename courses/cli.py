"""`flask courses import PATH` and `flask courses export CODE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from courses import export, service
from courses.package_spec import PackageInvalid
from lms.cli import reports_errors
from lms.db import transaction

courses_cli = AppGroup("courses", help="Course packages.")


@courses_cli.command("import")
@reports_errors
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_package(path: Path) -> None:
    """Validate a course package folder and load it as a new version (all or nothing)."""
    try:
        with transaction():
            course, created = service.import_package(path)
    except PackageInvalid as exc:
        for problem in exc.problems:
            where = f"{problem['file']}:{problem['line']}" if problem["line"] else problem["file"]
            click.echo(f"{where}: {problem['message']}", err=True)
        click.echo(f"refused: {len(exc.problems)} problem(s); nothing was loaded", err=True)
        raise SystemExit(1) from exc
    state = "loaded" if created else "already loaded"
    click.echo(f"{course.code} version {course.version} {state}")


@courses_cli.command("export")
@reports_errors
@click.argument("code")
@click.option("--version", type=int, help="default: the latest")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="folder to write (default: ./CODE)")
def export_package(code: str, version: int | None, output: Path | None) -> None:
    """Write a loaded course back out as a package folder."""
    target = export.export_course(code, output or Path(code), version)
    click.echo(f"wrote {target}")
