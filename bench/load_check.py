"""The load run's plan (which learners sign in, which courses they take, which options are
right) and its database check: every acknowledged lesson read, attempt and completion is in the
database exactly once, and no table holds a duplicate."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.cluster import Cluster
    from bench.load import LoadReport


def write_plan(cluster: Cluster, path: Path) -> int:
    """Every learner with a development-provider account (demo ones have a roster entry and
    assignments) and the courses of their audience, fewest lessons first; the ids of the
    correct options, so that learners pass. Returns the number of learners."""
    from sqlalchemy import select

    from courses import queries as course_queries
    from courses.models import Option
    from lms.app import create_app
    from lms.auth.models import DevCitizen
    from lms.db import get_db, session, transaction
    from lms.people.models import Role, RoleGrant, User

    app = create_app(cluster.app_config())
    try:
        with app.app_context(), transaction():
            users = session.execute(
                select(User).join(DevCitizen, DevCitizen.subject == User.subject)
                .where(User.issuer == cluster.issuer, User.id.in_(
                    select(RoleGrant.user_id).where(RoleGrant.role == Role.LEARNER,
                                                    RoleGrant.revoked_at.is_(None))))
                .order_by(User.id)).scalars().all()
            learners = []
            for user in users:
                courses = sorted(course_queries.latest_courses(course_queries.audiences_of(user)),
                                 key=lambda c: (len(course_queries.lessons_of(c.id)), c.code))
                learners.append({"subject": user.subject,
                                 "courses": [{"code": c.code} for c in courses]})
            correct = session.execute(select(Option.id).where(Option.is_correct)).scalars().all()
    finally:
        get_db(app).dispose()
    path.write_text(json.dumps({"learners": learners, "correct": list(correct)}))
    return len(learners)


def read_acks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def check_database(cluster: Cluster, acks: list[dict[str, Any]], report: LoadReport) -> None:
    """Every acknowledged write is in the database exactly once; no duplicate rows at all."""
    from sqlalchemy import func, select

    from courses.models import Course, Lesson
    from enrollment.models import Attempt, AttemptState, Enrollment, LessonProgress
    from lms.app import create_app
    from lms.db import get_db, session, transaction

    acked: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    app = create_app(cluster.app_config())
    try:
        with app.app_context(), transaction():
            for item in acks:
                kind = item["kind"]
                if kind == "read":
                    acked["lesson reads"] += 1
                    found = session.execute(
                        select(func.count()).select_from(LessonProgress)
                        .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
                        .join(Course, Course.id == Enrollment.course_id)
                        .join(Lesson, (Lesson.id == LessonProgress.lesson_id)
                              & (Lesson.course_id == Course.id))
                        .where(Enrollment.user_id == item["user"], Course.code == item["code"],
                               Lesson.slug == item["slug"],
                               LessonProgress.read_at.is_not(None))).scalar_one()
                    if found != 1:
                        lost["lesson reads"] += 1
                        report.problems.append(f"lesson read {item} found {found} times")
                elif kind == "attempt":
                    acked["attempts"] += 1
                    row = session.get(Attempt, item["attempt"])
                    if row is None or row.user_id != item["user"] or row.number != item["number"]:
                        lost["attempts"] += 1
                        report.problems.append(f"attempt {item} missing or changed")
                elif kind == "submit":
                    acked["submits"] += 1
                    row = session.get(Attempt, item["attempt"])
                    if row is None or row.state is AttemptState.IN_PROGRESS \
                            or bool(row.passed) != item["passed"]:
                        lost["submits"] += 1
                        report.problems.append(f"submit {item}: attempt is "
                                               f"{row and (row.state, row.passed)}")
                    if item["passed"]:
                        acked["completions"] += 1
                        done = session.execute(
                            select(func.count()).select_from(Enrollment)
                            .join(Course, Course.id == Enrollment.course_id)
                            .where(Enrollment.user_id == item["user"],
                                   Course.code == item["code"],
                                   Enrollment.completed_at.is_not(None))).scalar_one()
                        if done != 1:
                            lost["completions"] += 1
                            report.problems.append(f"completion {item} found {done} times")
            duplicates = {
                "lesson reads": (LessonProgress.enrollment_id, LessonProgress.lesson_id),
                "attempts": (Attempt.user_id, Attempt.quiz_id, Attempt.number),
                "enrolments": (Enrollment.user_id, Enrollment.course_id)}
            for name, columns in duplicates.items():
                groups = select(*columns).group_by(*columns).having(func.count() > 1).subquery()
                report.duplicated[name] = session.execute(
                    select(func.count()).select_from(groups)).scalar_one()
    finally:
        get_db(app).dispose()
    report.acked = dict(acked)
    report.lost = {k: lost.get(k, 0) for k in ("lesson reads", "attempts", "submits",
                                               "completions")}
