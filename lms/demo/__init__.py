"""Demo data: `flask demo load` (a living demo province) and `flask demo generate` (synthetic
data of any size for benchmarks)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.demo import cli

    app.cli.add_command(cli.demo_cli)
