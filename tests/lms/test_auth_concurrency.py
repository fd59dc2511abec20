"""Two first sign-ins of the same citizen at the same moment make one user, on both engines:
real concurrent transactions, each on its own connection (not the test's rolled-back one)."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lms.auth import service
from lms.auth.claims import Identity
from lms.db import get_db
from lms.people.models import User

IDENTITY = Identity(issuer="https://race.test", subject="same-citizen", full_name="Đinh Thị Hoa",
                    birth_on=date(2001, 2, 3), personal_id="001301009876", level=2)


def test_concurrent_first_logins_make_one_user(app):
    database = get_db(app)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def sign_in_once() -> None:
        with app.app_context():
            from lms.db import unit_of_work

            session = Session(database.engine, expire_on_commit=False)
            unit_of_work()["session"] = session
            try:
                barrier.wait()
                user = service.sign_in(IDENTITY)
                session.commit()
                results.append(user.id)
            except BaseException as exc:  # collected and re-raised by the test
                errors.append(exc)
                session.rollback()
            finally:
                session.close()

    threads = [threading.Thread(target=sign_in_once) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert len(results) == 2 and results[0] == results[1]
        with Session(database.engine) as check:
            count = check.execute(select(func.count()).select_from(User).where(
                User.issuer == IDENTITY.issuer)).scalar_one()
        assert count == 1
    finally:
        with Session(database.engine) as cleanup, cleanup.begin():
            cleanup.execute(delete(User).where(User.issuer == IDENTITY.issuer))
