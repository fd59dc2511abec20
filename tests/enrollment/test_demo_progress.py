"""`flask demo load` gives the demo learners varied progress in the shipped courses."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from courses.service import import_package
from enrollment.models import Attempt, Enrollment, LessonProgress

CONTENT = Path(__file__).resolve().parents[2] / "courses" / "content"


def test_demo_learners_have_varied_progress(app, db):
    for folder in sorted(CONTENT.iterdir()):
        import_package(folder)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    enrollments = db.execute(select(func.count()).select_from(Enrollment)).scalar_one()
    completed = db.execute(select(func.count()).select_from(Enrollment).where(
        Enrollment.completed_at.is_not(None))).scalar_one()
    failed = db.execute(select(func.count()).select_from(Attempt).where(
        Attempt.passed.is_(False))).scalar_one()
    partly = db.execute(select(func.count(func.distinct(LessonProgress.enrollment_id))).where(
        LessonProgress.read_at.is_not(None))).scalar_one()
    assert enrollments > 200 and 0 < failed < completed < enrollments
    assert completed < partly < enrollments + 1
    from enrollment.assignments.models import Assignment
    from enrollment.rosters.models import RosterEntry

    on_rosters = db.execute(select(func.count()).select_from(RosterEntry).where(
        RosterEntry.user_id.is_not(None))).scalar_one()
    assert on_rosters == 286  # every demo learner, linked
    assert db.execute(select(func.count()).select_from(Assignment)).scalar_one() == 4
