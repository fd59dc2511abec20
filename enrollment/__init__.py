"""Enrolments, reading progress, quiz attempts and completion (assignments, rosters and
reports arrive with their issues)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from enrollment import api

    app.extensions["lms_api"].register_blueprint(api.blp)
