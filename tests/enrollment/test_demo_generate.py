"""`flask demo generate` with courses loaded: every generated learner on their class's (or
department's) roster (linked, with their own hash and masked ID), the courses assigned to the
province's students and public servants, enrolments with varied progress, and counters equal to
a recomputation from enrolments."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from courses.models import Audience, Course
from courses.service import import_package
from enrollment.assignments.models import Assignment
from enrollment.models import Enrollment
from enrollment.reports import counters
from enrollment.reports.figures import live_children, unit_figures
from enrollment.reports.models import CompletionCounter
from enrollment.rosters.models import EntryStatus, RosterEntry
from lms.demo import generate as generator
from lms.people.models import RoleGrant, User
from lms.units.models import Unit, UnitKind, subtree_bounds
from lms.units.queries import find_unit_by_code
from tests.courses.package_factory import COURSE, write_package

LEARNERS = 250


def test_generate_adds_rosters_assignments_enrolments_and_exact_counters(db, tmp_path):
    import_package(write_package(tmp_path / "pkg"))
    counts = generator.generate(LEARNERS, province_code="08", prefix="DG", servants_share=0)
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


def _kept_and_live(db, unit: Unit) -> tuple[dict, dict]:
    low, high = subtree_bounds(unit.path)
    kept = {(r.unit_id, r.course_code): (r.expected, r.completed, r.started, r.exempt, r.due_on)
            for r in db.execute(select(CompletionCounter).where(
                CompletionCounter.unit_path >= low, CompletionCounter.unit_path < high)
            ).scalars()}
    live = {(r.unit_id, r.course_code): (r.expected, r.completed, r.started, r.exempt, r.due_on)
            for r in db.execute(counters.live(and_(counters.leaf.path >= low,
                                                   counters.leaf.path < high)))}
    return kept, live


def test_generate_adds_agencies_of_public_servants_and_a_third_assignment(db, tmp_path):
    for code, audience in (("TEST-ATGT", "students"), ("TEST-ATKGM", "everyone"),
                           ("TEST-CQS", "public_servants")):
        import_package(write_package(tmp_path / code, {**COURSE, "code": code,
                                                       "audience": audience}))
    counts = generator.generate(1000, province_code="08", prefix="DS", servants_share=0.5)
    added = generator.add_downstream_data("08", "DS")
    # learners stays the total: 500 students in 13 classes, 500 servants in 25 departments
    assert counts == {"schools": 1, "classes": 13, "agencies": 2, "departments": 25,
                      "servants": 500, "learners": 1000}
    assert added["roster entries"] == 1000 and added["assignments"] == 3

    province = find_unit_by_code("08")
    agencies = db.execute(select(Unit).where(Unit.code.like("DS-A%"),
                                             Unit.kind == UnitKind.AGENCY)
                          .order_by(Unit.code)).scalars().all()
    assert len(agencies) == 2
    communes = {a.parent_id for a in agencies}  # one agency per commune before a second one
    assert len(communes) == 2
    assert {db.get(Unit, c).parent_id for c in communes} == {province.id}
    parent = aliased(Unit)
    departments = db.execute(select(Unit, parent).join(parent, parent.id == Unit.parent_id)
                             .where(Unit.kind == UnitKind.DEPARTMENT,
                                    Unit.code.like("DS-A%"))).all()
    assert len(departments) == 25
    assert all(p.kind is UnitKind.AGENCY and d.path.startswith(p.path) for d, p in departments)

    # Servants sit on their department, on their agency's roster, and are adults.
    servants = db.execute(
        select(RosterEntry, User, Unit).join(User, User.id == RosterEntry.user_id)
        .join(Unit, Unit.id == RosterEntry.unit_id).where(User.subject.like("DS-%"),
                                                          Unit.kind == UnitKind.DEPARTMENT)
    ).all()
    assert len(servants) == 500
    for entry, user, unit in servants:
        assert entry.roster_unit_id == unit.parent_id and entry.status is EntryStatus.ACTIVE
        assert user.birth_on.year <= 2003
        grant = db.execute(select(RoleGrant).where(RoleGrant.user_id == user.id)).scalar_one()
        assert grant.unit_id == unit.id

    assignments = {(a.course_code, a.audience) for a in db.execute(
        select(Assignment).where(Assignment.unit_id == province.id)).scalars()}
    assert assignments == {("TEST-ATGT", Audience.STUDENTS), ("TEST-ATKGM", Audience.STUDENTS),
                           ("TEST-CQS", Audience.PUBLIC_SERVANTS)}

    # Enrolments: students in the two student courses only, servants in theirs only.
    by_kind = Counter(db.execute(
        select(Unit.kind, Course.code).select_from(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .join(RosterEntry, RosterEntry.user_id == Enrollment.user_id)
        .join(Unit, Unit.id == RosterEntry.unit_id)
        .join(User, User.id == Enrollment.user_id).where(User.subject.like("DS-%"))).all())
    assert set(by_kind) == {(UnitKind.CLASS, "TEST-ATGT"), (UnitKind.CLASS, "TEST-ATKGM"),
                            (UnitKind.DEPARTMENT, "TEST-CQS")}
    assert sum(by_kind.values()) == added["enrolments"]
    assert 0.6 * 500 < by_kind[UnitKind.DEPARTMENT, "TEST-CQS"] < 0.9 * 500

    # Counters equal the live recomputation, the agencies' departments included.
    kept, live = _kept_and_live(db, province)
    assert kept == live
    assert sum(v[0] for v in kept.values()) == 500 * 2 + 500
    for agency in agencies:
        kept_agency, live_agency = _kept_and_live(db, agency)
        assert kept_agency == live_agency
        assert {course for _, course in kept_agency} == {"TEST-CQS"}
    assert sum(v[0] for (_, course), v in kept.items() if course == "TEST-CQS") == 500

    today = min(a.due_on for a in db.execute(select(Assignment).where(
        Assignment.unit_id == province.id)).scalars())
    for unit in (province, agencies[0], db.get(Unit, agencies[0].parent_id)):
        figures = unit_figures(unit, today)
        assert {row.code: row.figures for row in figures.children
                if row.figures.expected} == live_children(unit, today)
    agency_figures = unit_figures(agencies[0], today)
    assert agency_figures.courses == ("TEST-CQS",)
    assert agency_figures.figures.expected == 400  # DS-A1 is full, DS-A2 has the rest
    assert unit_figures(agencies[1], today).figures.expected == 100


def test_generate_command_reports_the_public_servants(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", "500",
                                                "--prefix", "DC", "--province", "08"])
    assert result.exit_code == 0, result.output
    assert "generated 500 learners (50 public servants in 3 departments of 1 agencies" \
        in result.output
    assert db.execute(select(Unit.kind).where(Unit.code == "DC-A1-P3")).scalar_one() \
        is UnitKind.DEPARTMENT
    refused = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", "5",
                                                 "--prefix", "DD", "--servants-share", "1"])
    assert refused.exit_code != 0
