"""Certificates: issued once per completion (listening to enrollment's course_completed),
rendered once to a PDF, signed, verifiable online and offline, revocable and reissued as new
versions (DESIGN.md)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from certificates import api, cli, service, unit_zip_views, views
    from enrollment.signals import course_completed
    from lms.security import csrf

    app.extensions["lms_api"].register_blueprint(api.blp)
    app.register_blueprint(views.bp)
    app.extensions["lms_api"].register_blueprint(unit_zip_views.api)  # and the ZIP job
    app.register_blueprint(unit_zip_views.bp)
    from certificates import credential_views  # Open Badges 3.0 verifiable credentials
    app.extensions["lms_api"].register_blueprint(credential_views.blp)
    app.register_blueprint(credential_views.bp)
    app.cli.add_command(cli.certificates_cli)
    # Checking a name changes nothing and carries no session: a verifier's script may POST it.
    csrf.exempt(api.verify_name)
    course_completed.connect(service.on_course_completed, sender=app, weak=False)
