"""The officers' completion dashboard: a unit's rate against the 100% target, its children by
gap (drill-down), the monthly trend from locked snapshots, suspicious completions and, for
those who may see people, who has not completed yet. Server-rendered, charts in SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import select

from enrollment.assignments.queries import latest_courses_by_code, today_local
from enrollment.reports import svg
from enrollment.reports.documents import Figures
from enrollment.reports.figures import UnitRow, assigned_courses, figures_for, unit_figures
from enrollment.reports.people import people_page
from enrollment.reports.schemas import FiguresQuerySchema
from enrollment.reports.snapshot_models import ReportSnapshot
from enrollment.reports.suspicious import (
    BUNCH_MIN,
    BUNCH_SHARE,
    FAST_SHARE,
    is_scanned,
    suspicious_completions,
)
from lms import policy
from lms.db import session
from lms.errors import ValidationFailed, field_errors
from lms.i18n import localized
from lms.security import acting_user as _user
from lms.units.models import Unit
from lms.units.queries import ancestors, codes_to_units
from lms.units.service import kind_label

bp = Blueprint("reports", __name__, template_folder="../templates")
PEOPLE_PER_PAGE = 100
TREND_MONTHS = 12
FIGURE_KEYS = ("expected", "completed", "in_progress", "not_started", "overdue", "exempt")


def number(value: int) -> str:
    """1234567 -> "1.234.567" in Vietnamese, "1,234,567" in English."""
    return format_decimal(value, format="#,##0")


def percent(rate: Decimal | None) -> str:
    """Decimal("97.3") -> "97,3%" in Vietnamese; None (nobody expected) -> "–"."""
    return "–" if rate is None else format_decimal(rate, format="0.0") + "%"


@dataclass(frozen=True)
class ChildView:
    row: UnitRow
    href: bool  # the actor may open the child's dashboard
    own: bool  # the people who sit on the unit itself, not a child
    bar: Any


def _snapshot_figures(content: Any) -> Figures | None:
    """The counts of a locked snapshot's content, or None when they cannot be read."""
    try:
        counts = content["figures"]
        return Figures(**{key: int(counts[key]) for key in FIGURE_KEYS})
    except (KeyError, TypeError, ValueError):
        return None


def trend_points(unit: Unit, live: Figures, today: date) -> tuple[list[svg.TrendPoint], int]:
    """The latest version of each locked month (at most TREND_MONTHS) and the live point;
    and how many locked months there are."""
    latest: dict[str, Figures | None] = {}
    rows = session.execute(select(ReportSnapshot.period, ReportSnapshot.content)
                           .where(ReportSnapshot.unit_id == unit.id)
                           .order_by(ReportSnapshot.period.desc(),
                                     ReportSnapshot.version.desc())).all()
    for period, content in rows:
        if period not in latest and len(latest) < TREND_MONTHS:
            latest[period] = _snapshot_figures(content)
    points = []
    for period in sorted(latest):
        figures = latest[period]
        if figures is None:
            continue  # a snapshot without readable counts is no point
        label = f"{period[5:]}/{period[:4]}"
        points.append(svg.TrendPoint(label, figures.rate, percent(figures.rate)))
    locked = len(points)
    points.append(svg.TrendPoint(_("now"), live.rate, percent(live.rate), live=True))
    return points, locked


def _children(unit: Unit, rows: tuple[UnitRow, ...]) -> list[ChildView]:
    units = codes_to_units({row.code for row in rows if row.code != unit.code})
    ordered = sorted(rows, key=lambda row: (-row.figures.gap, row.code))
    views = []
    for row in ordered:
        own = row.code == unit.code
        child = units.get(row.code)
        href = (not own and child is not None
                and policy.can(_user(), policy.Permission.VIEW_UNIT, child))
        label = _("%(name)s: %(rate)s completed", name=row.name, rate=percent(row.figures.rate))
        views.append(ChildView(row, href, own, svg.rate_bar(
            row.figures.rate, label=label, width=240, height=28, css_class="rate-bar child")))
    return views if any(not view.own for view in views) else []  # a class: no units below


def _nobody(view: ChildView) -> bool:
    """A child with nobody on a roster under it (yet): listed apart, without a bar."""
    return not view.row.figures.expected and not view.row.figures.exempt


def _query_courses() -> list[str]:
    try:
        return FiguresQuerySchema().load({"course": request.args.getlist("course")})["course"]
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from exc


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


@bp.get("/units/<code>/dashboard")
@login_required
def dashboard(code: str):
    """Out of scope: 404 (figures_for)."""
    chosen = _query_courses()
    today = today_local()
    result = figures_for(_user(), code, today, chosen or None)
    unit = result.unit
    assigned = list(assigned_courses(unit))
    titles = {c: localized(course.title_vi, course.title_en)
              for c, course in latest_courses_by_code(assigned).items()}
    every_course = result.figures if not chosen else unit_figures(unit, today).figures
    points, locked = trend_points(unit, every_course, today)
    may_see_people = policy.can(_user(), policy.Permission.VIEW_PEOPLE, unit)
    people = (people_page(unit, today, courses=chosen or None, state="not_completed",
                          page=_page(), per_page=PEOPLE_PER_PAGE) if may_see_people else None)
    rate = result.figures.rate
    children = _children(unit, result.children)
    return render_template(
        "reports/dashboard.html", unit=unit, result=result, figures=result.figures,
        today=today, ancestors=ancestors(unit), kind_label=kind_label,
        number=number, percent=percent, assigned=assigned, chosen=set(chosen), titles=titles,
        rate_bar=svg.rate_bar(rate, label=_("Completion rate: %(rate)s of the 100%% target",
                                            rate=percent(rate))),
        children=[view for view in children if not _nobody(view)],
        empty_children=[view for view in children if _nobody(view)],
        trend=svg.trend_chart(points, label=_("Completion rate by month, %(name)s",
                                              name=unit.name)),
        points=points, locked=locked,
        suspicious=suspicious_completions(unit, chosen or None) if is_scanned(unit.kind)
        else None,
        fast_percent=int(FAST_SHARE * 100), bunch_percent=int(BUNCH_SHARE * 100),
        bunch_min=BUNCH_MIN, people=people, per_page=PEOPLE_PER_PAGE,
        may_see_people=may_see_people)
