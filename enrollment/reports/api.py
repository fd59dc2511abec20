"""/api/v1 completion figures of a unit and its children, and the people under a unit with
the state of each of their courses. Out of scope: 404 (lms.errors' one JSON shape)."""

from __future__ import annotations

from typing import Any

from flask_login import login_required

from enrollment.assignments.queries import today_local
from enrollment.reports.documents import Figures
from enrollment.reports.figures import UnitFigures, figures_for
from enrollment.reports.people import get_people_unit, people_page
from enrollment.reports.schemas import (
    FiguresQuerySchema,
    PeopleQuerySchema,
    PersonOut,
    UnitFiguresOut,
)
from lms.api import Blueprint, list_schema
from lms.security import acting_user as _user

blp = Blueprint("reports_api", __name__, url_prefix="/api/v1",
                description="Completion against the roster: figures and people")


def figures_view(figures: Figures) -> dict[str, Any]:
    rate = figures.rate
    return {"expected": figures.expected, "completed": figures.completed,
            "in_progress": figures.in_progress, "not_started": figures.not_started,
            "overdue": figures.overdue, "exempt": figures.exempt,
            "rate": None if rate is None else str(rate), "gap": figures.gap}


def unit_figures_view(result: UnitFigures) -> dict[str, Any]:
    unit = result.unit
    return {"unit": {"code": unit.code, "name": unit.name, "kind": unit.kind.value},
            "today": result.today, "courses": list(result.courses),
            "figures": figures_view(result.figures),
            "children": [{"code": row.code, "name": row.name, "kind": row.kind,
                          "figures": figures_view(row.figures)} for row in result.children]}


@blp.get("/units/<code>/figures")
@login_required
@blp.arguments(FiguresQuerySchema, location="query")
@blp.response(200, UnitFiguresOut)
def unit_figures(args, code):
    """Completion against the 100% target for the unit and each child (404 out of scope)."""
    return unit_figures_view(figures_for(_user(), code, today_local(), args["course"] or None))


@blp.get("/units/<code>/people")
@login_required
@blp.arguments(PeopleQuerySchema, location="query")
@blp.response(200, list_schema(PersonOut))
def unit_people(args, code):
    """People under the unit (not those who left), ordered by class then name, with masked
    IDs and the state of each assigned course; state filters the people (default
    not_completed). 404 without the right to see people there."""
    unit = get_people_unit(_user(), code)
    course = args.get("course")
    return people_page(unit, today_local(), courses=[course] if course else None,
                       state=args["state"], page=args["page"], per_page=args["per_page"])
