"""Completion figures against the roster, hand-computed: exempt, left, moved (two rosters),
re-enrolled and overdue people; children sum to the parent; the counters kept by every change
equal a recomputation from enrolments; another province's officer gets 404."""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from courses.models import Audience
from courses.service import import_package
from enrollment import service as enrollment_service
from enrollment.assignments.service import create_assignment
from enrollment.models import Enrollment
from enrollment.reports import counters
from enrollment.reports.documents import Figures
from enrollment.reports.figures import figures_for, live_children, unit_figures
from enrollment.reports.models import CompletionCounter
from enrollment.rosters import service as rosters
from enrollment.rosters.importer import import_roster
from enrollment.rosters.models import ExemptReason, RosterEntry
from lms.db import utcnow
from lms.demo.people import synthetic_personal_id
from lms.errors import NotFound
from lms.people.models import Role
from lms.pii import hash_personal_id
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import COURSE, write_package

DUE = date(2026, 5, 31)
BEFORE_DUE, AFTER_DUE = date(2026, 5, 20), date(2026, 6, 2)


def roster_csv(people):
    lines = ["Họ và tên;Số định danh cá nhân;Ngày sinh;Lớp"]
    lines += [f"{name};{pid};05/09/2012;{klass}" for name, pid, klass in people]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


@pytest.fixture
def province(db, make, tmp_path):
    """Commune 00691: school S1 (classes A, B) and school S2 (class C); course TEST-ATGT
    assigned to the commune's students, due 31 May."""
    import_package(write_package(tmp_path / "v1"))
    s1 = make.unit("school", "00691", code="FIG-S1", name="Trường Một")
    s2 = make.unit("school", "00691", code="FIG-S2", name="Trường Hai")
    for school, klass in ((s1, "A"), (s1, "B"), (s2, "C")):
        make.unit("class", school, code=f"{school.code}-{klass}", name=f"Lớp {klass}")
    rng = random.Random(3)
    ids = {n: synthetic_personal_id(rng, "008", date(2012, 9, 5), n % 2 == 0, 900 + n)
           for n in range(1, 11)}
    names = {n: f"Học Sinh Số {n}" for n in ids}
    officer = make.person(Role.OFFICER, find_unit_by_code("00691"))
    create_assignment(officer, "00691", ["TEST-ATGT"], Audience.STUDENTS, date(2026, 5, 1),
                      DUE)
    return s1, s2, ids, names, tmp_path


def account(make, ids, n):
    user = make.user(name=f"Học Sinh Số {n}", personal_id=ids[n])
    make.grant(user, Role.LEARNER, find_unit_by_code("FIG-S1-A"))
    rosters.link_user(user, hash_personal_id(ids[n]))
    return user


def complete(user):
    enrollment_service._complete(enrollment_service.enroll(user, "TEST-ATGT"))


def test_figures_hand_computed(db, make, province):
    s1, _s2, ids, names, tmp_path = province
    a, b, c = "FIG-S1-A", "FIG-S1-B", "FIG-S2-C"
    # p7 starts on S1's roster, then moves to S2 (left in S1, active in S2: two rosters)
    first = [(names[n], ids[n], a) for n in (1, 2, 3, 4, 5)] + [
        (names[n], ids[n], b) for n in (6, 7, 8)]
    import_roster(None, "FIG-S1", "s1.csv", roster_csv(first), dry_run=False)
    import_roster(None, "FIG-S1", "s1.csv", roster_csv(
        [row for row in first if row[1] != ids[7]]), dry_run=False)
    import_roster(None, "FIG-S2", "s2.csv", roster_csv(
        [(names[n], ids[n], c) for n in (9, 10, 7)]), dry_run=False)
    users = {n: account(make, ids, n) for n in (1, 2, 3, 6, 7, 8, 9)}
    for n in (1, 6, 9):
        complete(users[n])
    for n in (2, 7):
        enrollment_service.enroll(users[n], "TEST-ATGT")
    # p8 completed version 1, then re-enrolled in version 2: in progress, not completed
    complete(users[8])
    course = copy.deepcopy(COURSE)
    course["version"] = 2
    v2, _ = import_package(write_package(tmp_path / "v2", course=course))
    db.add(Enrollment(user_id=users[8].id, course_id=v2.id,
                      started_at=utcnow() + timedelta(seconds=1)))
    db.flush()
    counters.refresh_for_user(users[8].id, "TEST-ATGT")
    # p5 is exempt
    entry = db.execute(select(RosterEntry).where(
        RosterEntry.personal_id_hash == hash_personal_id(ids[5]))).scalar_one()
    rosters.exempt(make.person(Role.UNIT_ADMIN, s1), entry.id, ExemptReason.LONG_ILLNESS, None)

    commune = find_unit_by_code("00691")
    result = unit_figures(commune, BEFORE_DUE)
    assert result.figures == Figures(expected=9, completed=3, in_progress=3, not_started=3,
                                     overdue=0, exempt=1)
    by_code = {row.code: row.figures for row in result.children}
    assert by_code == {
        "FIG-S1": Figures(expected=6, completed=2, in_progress=2, not_started=2, overdue=0,
                          exempt=1),
        "FIG-S2": Figures(expected=3, completed=1, in_progress=1, not_started=1, overdue=0,
                          exempt=0)}
    school = {row.code: row.figures for row in unit_figures(s1, BEFORE_DUE).children}
    assert school["FIG-S1-A"] == Figures(4, 1, 1, 2, 0, 1)
    assert school["FIG-S1-B"] == Figures(2, 1, 1, 0, 0, 0)
    late = unit_figures(commune, AFTER_DUE)
    assert late.figures.overdue == 6 and late.figures.gap == 6
    assert str(late.figures.rate) == "33.3"
    # children sum to the parent, and the counters equal a recomputation from enrolments
    for day in (BEFORE_DUE, AFTER_DUE):
        figures = unit_figures(commune, day)
        assert live_children(commune, day) == {r.code: r.figures for r in figures.children}
    kept = set(db.execute(select(
        CompletionCounter.unit_id, CompletionCounter.course_code, CompletionCounter.expected,
        CompletionCounter.completed, CompletionCounter.started, CompletionCounter.exempt,
        CompletionCounter.due_on)).all())
    fresh = {(r.unit_id, r.course_code, r.expected, r.completed, r.started, r.exempt,
              r.due_on) for r in db.execute(counters.live(counters.leaf.id.is_not(None)))}
    assert kept == fresh and len(kept) == 3


def test_children_sum_to_parent(db, make, province):
    _s1, _s2, ids, names, _ = province
    import_roster(None, "FIG-S1", "s1.csv", roster_csv(
        [(names[n], ids[n], "FIG-S1-A" if n < 4 else "FIG-S1-B") for n in range(1, 7)]),
        dry_run=False)
    for n in (1, 4):
        complete(account(make, ids, n))
    result = unit_figures(find_unit_by_code("00691"), AFTER_DUE)
    for field in ("expected", "completed", "in_progress", "not_started", "overdue", "exempt"):
        assert sum(getattr(r.figures, field) for r in result.children) == getattr(
            result.figures, field)
    assert result.figures.expected == 6 and result.figures.completed == 2


def test_out_of_scope_is_not_found(db, make, province):
    officer_elsewhere = make.person(Role.OFFICER, find_unit_by_code("01"))
    own = figures_for(make.person(Role.UNIT_ADMIN, province[0]), "FIG-S1", BEFORE_DUE)
    assert own.unit.code == "FIG-S1"
    for code in ("00691", "FIG-S1", "FIG-S2-C"):
        with pytest.raises(NotFound):
            figures_for(officer_elsewhere, code, BEFORE_DUE)
    with pytest.raises(NotFound):  # a school admin cannot read the commune's figures
        figures_for(make.person(Role.UNIT_ADMIN, province[0]), "00691", BEFORE_DUE)
