"""Course catalogue, content packages, lessons, quizzes and question pools."""

from flask import Flask


def init_app(app: Flask) -> None:
    from courses import api, cli, views

    app.cli.add_command(cli.courses_cli)
    app.extensions["lms_api"].register_blueprint(api.blp)
    app.register_blueprint(views.bp)
