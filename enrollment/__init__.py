"""Enrolments, reading progress, quiz attempts, rosters, assignments and completion."""

from flask import Flask


def init_app(app: Flask) -> None:
    from enrollment import api, demo, demo_generate, views
    from enrollment.assignments import api as assignments_api
    from enrollment.assignments import views as assignments_views
    from enrollment.reports import api as reports_api
    from enrollment.reports import (
        export_views,
        reminder_api,
        reminder_views,
        snapshot_api,
        snapshot_views,
    )
    from enrollment.reports import views as reports_views
    from enrollment.rosters import api as rosters_api
    from enrollment.rosters import cli as rosters_cli
    from enrollment.rosters import subscribers
    from enrollment.rosters import views as rosters_views
    from lms.signals import demo_generated, demo_loaded, user_signed_in

    for blueprint in (api.blp, assignments_api.blp, rosters_api.blp, reports_api.blp,
                      snapshot_api.blp, reminder_api.blp):
        app.extensions["lms_api"].register_blueprint(blueprint)
    for blueprint in (views.bp, assignments_views.bp, rosters_views.bp, reports_views.bp,
                      snapshot_views.bp, export_views.bp, reminder_views.bp):
        app.register_blueprint(blueprint)
    app.cli.add_command(rosters_cli.rosters_cli)
    demo_loaded.connect(demo.add_demo_progress, sender=app, weak=False)
    demo_generated.connect(demo_generate.add_generated_data, sender=app, weak=False)
    user_signed_in.connect(subscribers.on_signed_in, sender=app, weak=False)
