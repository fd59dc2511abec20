"""Concurrent starts and submits, as real transactions on their own connections (both
engines): ten starts of a one-attempt quiz make one attempt; twenty submits grade once."""

from __future__ import annotations

import copy
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from courses.models import Course
from courses.service import import_package
from enrollment import attempts, service
from enrollment.models import Attempt, AttemptState, LessonProgress
from lms.db import get_db, unit_of_work, utcnow
from lms.people import service as people
from lms.people.models import Role, User
from lms.units import service as units
from lms.units.models import Unit, UnitKind
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import COURSE, QUIZ, write_package
from tests.support.cleanup import delete_users


def in_own_transaction(app, work):
    """Run work() in an app context with its own session on its own connection; commit."""
    with app.app_context():
        session = Session(get_db(app).engine, expire_on_commit=False)
        unit_of_work()["session"] = session
        try:
            result = work()
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def race(app, count, work):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            results.append(in_own_transaction(app, lambda: (barrier.wait(), work())[1]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.fixture
def learner(app, tmp_path):
    course = copy.deepcopy(COURSE)
    course["code"] = "RACE-1"
    quiz = copy.deepcopy(QUIZ)
    quiz["attempts_allowed"] = 1
    package = write_package(tmp_path / "race", course=course, quiz=quiz)

    def setup():
        import_package(package)
        school = units.new_unit("RACE-S", "Trường đua", UnitKind.SCHOOL,
                                find_unit_by_code("00070"))
        units.new_unit("RACE-S-1", "Lớp đua", UnitKind.CLASS, school)
        user = people.new_user(issuer="race", subject="racer", full_name="Lò Văn Đua")
        from lms.db import session

        session.flush()
        people.grant_role(None, role=Role.LEARNER, unit_code="RACE-S-1", user_id=user.id)
        enrollment = service.enroll(user, "RACE-1")
        for slug in ("bien-bao", "mu-bao-hiem"):
            service.open_lesson(enrollment, service.lesson_in(enrollment, slug))
        session.flush()
        for progress in session.execute(select(LessonProgress)).scalars():
            progress.first_opened_at = utcnow() - timedelta(minutes=10)
        for slug in ("bien-bao", "mu-bao-hiem"):
            service.mark_read(enrollment, service.lesson_in(enrollment, slug))
        return user.id

    user_id = in_own_transaction(app, setup)
    yield user_id

    def cleanup():
        from lms.db import session

        delete_users(session, [user_id])
        session.execute(delete(Course).where(Course.code == "RACE-1"))
        session.execute(delete(Unit).where(Unit.code.in_(["RACE-S-1"])))
        session.execute(delete(Unit).where(Unit.code.in_(["RACE-S"])))

    in_own_transaction(app, cleanup)


def _user(user_id):
    from lms.db import session

    return session.get(User, user_id)


def _count_attempts(app, user_id):
    return in_own_transaction(app, lambda: unit_of_work()["session"].execute(
        select(func.count()).select_from(Attempt).where(Attempt.user_id == user_id)
    ).scalar_one())


def test_ten_concurrent_starts_make_one_attempt(app, learner):
    def start():
        user = _user(learner)
        return attempts.start(user, service.require_enrollment(user, "RACE-1")).id

    results, errors = race(app, 10, start)
    assert not errors, errors
    assert len(set(results)) == 1
    assert _count_attempts(app, learner) == 1


def test_twenty_concurrent_submits_grade_once(app, learner):
    def start():
        user = _user(learner)
        return attempts.start(user, service.require_enrollment(user, "RACE-1")).id

    attempt_id = in_own_transaction(app, start)

    def submit():
        attempt = attempts.submit(_user(learner), attempt_id, {}, "same-submit-key")
        return (attempt.state, attempt.closed_at)

    results, errors = race(app, 20, submit)
    assert not errors, errors
    assert {state for state, _ in results} == {AttemptState.GRADED}
    assert len({closed for _, closed in results}) == 1  # one grading, returned twenty times
    assert _count_attempts(app, learner) == 1


@pytest.fixture
def reader(app, tmp_path):
    """A learner of a quiz-less course (completion = every lesson read), lessons opened long
    ago so that reading them counts at once."""
    course = {k: v for k, v in copy.deepcopy(COURSE).items() if k != "quiz"}
    course["code"] = "RACE-2"
    package = write_package(tmp_path / "race2", course=course)

    def setup():
        from lms.db import session

        import_package(package)
        school = units.new_unit("RACE-R", "Trường đọc", UnitKind.SCHOOL,
                                find_unit_by_code("00070"))
        units.new_unit("RACE-R-1", "Lớp đọc", UnitKind.CLASS, school)
        user = people.new_user(issuer="race", subject="reader", full_name="Hà Thị Đọc")
        session.flush()
        people.grant_role(None, role=Role.LEARNER, unit_code="RACE-R-1", user_id=user.id)
        enrollment = service.enroll(user, "RACE-2")
        for slug in ("bien-bao", "mu-bao-hiem"):
            service.open_lesson(enrollment, service.lesson_in(enrollment, slug))
        session.flush()
        for progress in session.execute(select(LessonProgress)).scalars():
            progress.first_opened_at = utcnow() - timedelta(minutes=10)
        return user.id

    user_id = in_own_transaction(app, setup)
    yield user_id

    def cleanup():
        from lms.db import session

        delete_users(session, [user_id])
        session.execute(delete(Course).where(Course.code == "RACE-2"))
        session.execute(delete(Unit).where(Unit.code == "RACE-R-1"))
        session.execute(delete(Unit).where(Unit.code == "RACE-R"))

    in_own_transaction(app, cleanup)


def test_concurrent_reads_and_completions_count_once(app, reader):
    from enrollment import signals
    from enrollment.models import Enrollment

    completions = []
    signals.course_completed.connect(
        lambda _sender, enrollment: completions.append(enrollment.id), weak=False)

    def read(slug):
        def work():
            user = _user(reader)
            enrollment = service.require_enrollment(user, "RACE-2")
            return service.mark_read(enrollment, service.lesson_in(enrollment, slug)).id
        return work

    # 50 concurrent reads of the first lesson (two devices), then 50 repeats of it
    results, errors = race(app, 50, read("bien-bao"))
    assert not errors, errors
    assert len(set(results)) == 1
    for _ in range(50):
        in_own_transaction(app, read("bien-bao"))
    # 20 concurrent completing actions: reading the last lesson
    results, errors = race(app, 20, read("mu-bao-hiem"))
    assert not errors, errors

    def state():
        from lms.db import session

        rows = session.execute(select(LessonProgress.read_at).join(
            Enrollment, Enrollment.id == LessonProgress.enrollment_id)
            .where(Enrollment.user_id == reader)).scalars().all()
        done = session.execute(select(Enrollment.completed_at).where(
            Enrollment.user_id == reader)).scalar_one()
        return rows, done

    rows, done = in_own_transaction(app, state)
    assert len(rows) == 2 and all(rows) and done is not None
    assert len(completions) == 1
