"""Course images, served from our own origin with their own tight Content-Security-Policy."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from sqlalchemy import select

from courses.models import Course, CourseAsset
from lms.db import session

bp = Blueprint("courses", __name__, url_prefix="/courses")


@bp.get("/<code>/v<int:version>/assets/images/<path:name>")
def asset(code: str, version: int, name: str):
    row = session.execute(
        select(CourseAsset.data, CourseAsset.content_type).join(
            Course, Course.id == CourseAsset.course_id)
        .where(Course.code == code, Course.version == version,
               CourseAsset.path == f"images/{name}")).first()
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=row.content_type)
    # An SVG opened on its own must not run anything; versions never change, so cache long.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
