"""The audit log: an append-only record of who did what, when, on which unit (docs/audit.md).
Every feature records into it through `lms.audit.service.record`."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.audit import api, downloads, views

    downloads.init_app(app)
    app.extensions["lms_api"].register_blueprint(api.blp)
    app.register_blueprint(views.bp)
