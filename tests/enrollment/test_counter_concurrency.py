"""Counters stay exact when learners of one class complete at the same moment, each in its
own transaction on its own connection (both engines): no completion is lost."""

from __future__ import annotations

import copy
import threading
from datetime import date

import pytest
from sqlalchemy import delete, select

from courses.models import Audience, Course
from courses.service import import_package
from enrollment import service
from enrollment.assignments.models import Assignment
from enrollment.reports import counters
from enrollment.reports.models import CompletionCounter
from enrollment.rosters.models import RosterEntry
from lms.people import service as people
from lms.people.models import Role, User
from lms.units import service as units
from lms.units.models import Unit, UnitKind
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import COURSE, write_package
from tests.enrollment.test_concurrency import in_own_transaction
from tests.support.cleanup import delete_users

LEARNERS = 8


@pytest.fixture
def classroom(app, tmp_path):
    course = copy.deepcopy(COURSE)
    course["code"] = "RACE-C"
    package = write_package(tmp_path / "race-c", course=course)

    def setup():
        from lms.db import session

        import_package(package)
        school = units.new_unit("RACE-CS", "Trường đếm", UnitKind.SCHOOL,
                                find_unit_by_code("00070"))
        klass = units.new_unit("RACE-CS-1", "Lớp đếm", UnitKind.CLASS, school)
        session.flush()
        session.add(Assignment(unit_id=school.id, course_code="RACE-C",
                               audience=Audience.STUDENTS, start_on=date(2026, 1, 1),
                               due_on=date(2026, 12, 31)))
        ids = []
        for n in range(LEARNERS):
            user = people.new_user(issuer="race", subject=f"count-{n}", full_name=f"Người {n}")
            session.flush()
            people.grant_role(None, role=Role.LEARNER, unit_code="RACE-CS-1", user_id=user.id)
            session.add(RosterEntry(unit_id=klass.id, roster_unit_id=school.id,
                                    personal_id_hash=f"{n:064d}", personal_id_masked="********0000",
                                    full_name=f"Người {n}", birth_on=date(2012, 1, 1),
                                    user_id=user.id))
            ids.append(user.id)
        session.flush()
        counters.refresh_subtree(school)
        for user_id in ids:
            service.enroll(session.get(User, user_id), "RACE-C")
        return ids, klass.id

    ids, class_id = in_own_transaction(app, setup)
    yield ids, class_id

    def cleanup():
        from lms.db import session

        session.execute(delete(CompletionCounter).where(CompletionCounter.unit_id == class_id))
        session.execute(delete(RosterEntry).where(RosterEntry.unit_id == class_id))
        delete_users(session, ids)
        session.execute(delete(Assignment).where(Assignment.course_code == "RACE-C"))
        session.execute(delete(Course).where(Course.code == "RACE-C"))
        session.execute(delete(Unit).where(Unit.code == "RACE-CS-1"))
        session.execute(delete(Unit).where(Unit.code == "RACE-CS"))

    in_own_transaction(app, cleanup)


def test_simultaneous_completions_in_one_class_are_all_counted(app, classroom):
    ids, class_id = classroom
    barrier = threading.Barrier(LEARNERS)
    errors: list[BaseException] = []

    def complete(user_id):
        def work():
            from lms.db import session

            # the barrier comes first: on SQLite the first statement takes the write lock
            barrier.wait()
            enrollment = service.require_enrollment(session.get(User, user_id), "RACE-C")
            return service._complete(enrollment)
        try:
            in_own_transaction(app, work)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=complete, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    def read():
        from lms.db import session

        kept = session.execute(select(CompletionCounter.expected, CompletionCounter.completed,
                                      CompletionCounter.started).where(
            CompletionCounter.unit_id == class_id)).one()
        fresh = session.execute(select(counters.live(counters.leaf.id == class_id).subquery()
                                       .c["expected", "completed", "started"])).one()
        return tuple(kept), tuple(fresh)

    kept, fresh = in_own_transaction(app, read)
    assert kept == fresh == (LEARNERS, LEARNERS, 0)
