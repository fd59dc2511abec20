"""People (users keyed by their identity provider) and role grants on units."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.people import api, cli

    app.extensions["lms_api"].register_blueprint(api.blp)
    app.cli.add_command(cli.people_cli)
