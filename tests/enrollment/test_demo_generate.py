"""`flask demo generate` with a course loaded: every generated learner on their class's roster
(linked, with their own hash and masked ID), the course assigned to the province's students,
enrolments with varied progress, and counters equal to a recomputation from enrolments."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, select

from courses.service import import_package
from enrollment.assignments.models import Assignment
from enrollment.models import Enrollment
from enrollment.reports import counters
from enrollment.reports.figures import live_children, unit_figures
from enrollment.reports.models import CompletionCounter
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.demo import generate as generator
from lms.people.models import User
from lms.units.models import subtree_bounds
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import write_package

LEARNERS = 250


def test_generate_adds_rosters_assignments_enrolments_and_exact_counters(db, tmp_path):
    import_package(write_package(tmp_path / "pkg"))
    counts = generator.generate(LEARNERS, province_code="08", prefix="DG")
    added = generator.add_downstream_data("08", "DG")
    assert counts["learners"] == LEARNERS
    assert added["roster entries"] == LEARNERS and added["assignments"] == 1

    rows = db.execute(select(RosterEntry, User).join(User, User.id == RosterEntry.user_id)
                      .where(User.subject.like("DG-%"))).all()
    assert len(rows) == LEARNERS
    for entry, user in rows:
        assert entry.status is EntryStatus.ACTIVE
        assert (entry.personal_id_hash, entry.personal_id_masked, entry.full_name,
                entry.birth_on) == (user.personal_id_hash, user.personal_id_masked,
                                    user.full_name, user.birth_on)
    province = find_unit_by_code("08")
    assignment = db.execute(select(Assignment).where(Assignment.unit_id == province.id,
                                                     Assignment.course_code == "TEST-ATGT")
                            ).scalar_one()
    assert assignment.due_on < assignment.start_on.replace(year=assignment.start_on.year + 1)

    enrolments = db.execute(select(Enrollment.completed_at).join(
        User, User.id == Enrollment.user_id).where(User.subject.like("DG-%"))).scalars().all()
    assert added["enrolments"] == len(enrolments)
    done = sum(1 for c in enrolments if c is not None)
    # about half completed, a quarter started, a quarter not enrolled (seeded)
    assert 0.35 * LEARNERS < done < 0.65 * LEARNERS
    assert 0.1 * LEARNERS < len(enrolments) - done < 0.4 * LEARNERS

    low, high = subtree_bounds(province.path)
    kept = {(r.unit_id, r.course_code): (r.expected, r.completed, r.started, r.exempt, r.due_on)
            for r in db.execute(select(CompletionCounter).where(
                CompletionCounter.unit_path >= low, CompletionCounter.unit_path < high)
            ).scalars()}
    live = {(r.unit_id, r.course_code): (r.expected, r.completed, r.started, r.exempt, r.due_on)
            for r in db.execute(counters.live(and_(counters.leaf.path >= low,
                                                   counters.leaf.path < high)))}
    assert kept == live
    assert sum(v[0] for v in kept.values()) == LEARNERS
    assert sum(v[1] for v in kept.values()) == done

    figures = unit_figures(province, assignment.due_on)
    assert {row.code: row.figures for row in figures.children if row.figures.expected} == \
        live_children(province, assignment.due_on)
    assert Counter(row.figures.expected for row in figures.children)[0] < len(figures.children)


def test_generate_without_courses_adds_learners_only(db):
    assert generator.generate(40, province_code="08", prefix="DN")["learners"] == 40
    assert generator.add_downstream_data("08", "DN") == {}
    assert not db.execute(select(RosterEntry).join(User, User.id == RosterEntry.user_id)
                          .where(User.subject.like("DN-%"))).first()
