"""Enrolments, reading progress, quiz attempts and completion (assignments, rosters and
reports arrive with their issues)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from enrollment import api, demo, views
    from lms.signals import demo_loaded

    app.extensions["lms_api"].register_blueprint(api.blp)
    app.register_blueprint(views.bp)
    demo_loaded.connect(demo.add_demo_progress, sender=app, weak=False)
