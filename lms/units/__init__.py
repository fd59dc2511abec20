"""Org units of the two-level government: ministry → province → commune → school → class,
and ministry/province/commune → agency → department."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.units import api, cli, views

    app.register_blueprint(views.bp)
    app.extensions["lms_api"].register_blueprint(api.blp)
    app.cli.add_command(cli.units_cli)
