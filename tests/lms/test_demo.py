"""`flask demo load` builds a living demo province once; `flask demo generate` writes bulk
synthetic learners that the scoped queries see."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select

from lms.people.models import Role, RoleGrant, User
from lms.units.models import Unit, UnitKind


def count(db, model, *where):
    return db.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_demo_load_is_complete_and_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    units, users = count(db, Unit), count(db, User)
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "already" in second.output
    assert (count(db, Unit), count(db, User)) == (units, users)

    demo = Unit.code.like("DEMO-08-%")
    assert count(db, Unit, demo, Unit.kind == UnitKind.SCHOOL) == 10
    assert count(db, Unit, demo, Unit.kind == UnitKind.AGENCY) == 3
    learners = count(db, RoleGrant, RoleGrant.role == Role.LEARNER)
    assert 200 <= learners <= 500
    roles = dict(db.execute(select(RoleGrant.role, func.count()).group_by(RoleGrant.role)).all())
    assert roles[Role.UNIT_ADMIN] == 13  # one per school and agency
    assert roles[Role.OFFICER] == 5  # ministry, province and three communes
    assert roles[Role.SYSTEM_ADMIN] == 1
    names = db.execute(select(User.full_name)).scalars().all()
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    masked = db.execute(select(User.personal_id_masked).limit(5)).scalars().all()
    assert all(m and "****" in m for m in masked)


def test_demo_officer_sees_the_demo_schools(client, app, db):
    from tests.support.factories import login

    app.test_cli_runner().invoke(args=["demo", "load"])
    officer = db.execute(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                         .join(Unit, Unit.id == RoleGrant.unit_id)
                         .where(RoleGrant.role == Role.OFFICER, Unit.code == "08")).scalar_one()
    login(client, officer)
    schools = client.get("/api/v1/units?kind=school&per_page=50").get_json()
    assert schools["meta"]["total"] == 10
    assert all(s["code"].startswith("DEMO-08-") for s in schools["items"])


def test_generate_writes_bulk_learners(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "generate", "--learners", "2050", "--prefix", "TG"])
    assert result.exit_code == 0, result.output
    assert "generated 2050 learners" in result.output
    assert count(db, Unit, Unit.code.like("TG-S%"), Unit.kind == UnitKind.SCHOOL) == 3
    # 10% public servants by default: 205 in agencies, 1,845 students in 47 classes of 40
    assert count(db, Unit, Unit.code.like("TG-S%"), Unit.kind == UnitKind.CLASS) == 47
    assert count(db, Unit, Unit.code.like("TG-A%"), Unit.kind == UnitKind.DEPARTMENT) == 11
    assert count(db, User, User.subject.like("TG-%")) == 2050
    per_class = db.execute(
        select(func.count()).select_from(RoleGrant).join(Unit, Unit.id == RoleGrant.unit_id)
        .where(Unit.code == "TG-S1-L1")).scalar_one()
    assert per_class == 40
    again = runner.invoke(args=["demo", "generate", "--learners", "10", "--prefix", "TG"])
    assert again.exit_code == 1
    assert "prefix TG exists" in again.output and "Traceback" not in again.output
