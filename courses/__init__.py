"""Courses feature package (see DESIGN.md).

Its blueprints and signal subscribers are registered here as the features land."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register yet."""
