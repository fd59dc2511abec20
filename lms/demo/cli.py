"""`flask demo load` and `flask demo generate --learners N`."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from lms.cli import reports_errors
from lms.db import transaction
from lms.demo import generate as generator
from lms.demo import service

demo_cli = AppGroup("demo", help="Demo and synthetic data.")


@demo_cli.command("load")
@reports_errors
def load() -> None:
    """Create the demo province (idempotent: a second run changes nothing)."""
    with transaction():
        counts = service.load_demo()
    if not counts["units"]:
        click.echo("demo data already loaded")
    else:
        click.echo(f"demo province: {counts['units']} units, {counts['learners']} learners, "
                   f"{counts['staff']} staff")


@demo_cli.command("generate")
@reports_errors
@click.option("--learners", type=click.IntRange(min=1), required=True)
@click.option("--province", "province_code", default="01", show_default=True)
@click.option("--prefix", default="GEN", show_default=True,
              help="code prefix of the synthetic units (one run per prefix)")
@click.option("--servants-share", type=click.FloatRange(0, 1, max_open=True),
              default=generator.SERVANTS_SHARE, show_default=True,
              help="share of the learners who are public servants in agencies (the rest are "
                   "students in schools)")
def generate(learners: int, province_code: str, prefix: str, servants_share: float) -> None:
    """Write a synthetic dataset of LEARNERS learners in bulk (for benchmarks)."""
    started = time.perf_counter()
    with transaction():
        counts = generator.generate(learners, province_code=province_code, prefix=prefix,
                                    servants_share=servants_share)
        people_s = time.perf_counter() - started
        added = generator.add_downstream_data(province_code, prefix)
    total_s = time.perf_counter() - started
    people = (f"generated {counts['learners']} learners ({counts['servants']} public servants "
              f"in {counts['departments']} departments of {counts['agencies']} agencies, the "
              f"others in {counts['classes']} classes of {counts['schools']} schools) in")
    if not added:  # nothing downstream (no course loaded): the one line benchmarks parse
        click.echo(f"{people} {total_s:.1f}s")
        return
    # The learners' part is timed alone, as before downstream data existed (bench/generate.py).
    click.echo(f"{people} {people_s:.1f}s (before the commit)")
    click.echo("then " + ", ".join(f"{n} {what}" for what, n in added.items())
               + f" in {total_s - people_s:.1f}s; all committed in {total_s:.1f}s")
