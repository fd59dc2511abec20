"""Twenty concurrent completing actions (reading the last lesson), as real transactions on
their own connections, on both engines: one completion, one certificate."""

from __future__ import annotations

from sqlalchemy import select

from certificates.models import Certificate
from enrollment import service
from tests.enrollment.test_concurrency import (  # noqa: F401 (the fixture)
    _user,
    in_own_transaction,
    race,
    reader,
)


def test_twenty_concurrent_completions_make_one_certificate(app, reader):  # noqa: F811
    def read_last():
        enrollment = service.require_enrollment(_user(reader), "RACE-2")
        return service.mark_read(enrollment, service.lesson_in(enrollment, "bien-bao")).id

    in_own_transaction(app, read_last)

    def complete():
        enrollment = service.require_enrollment(_user(reader), "RACE-2")
        service.mark_read(enrollment, service.lesson_in(enrollment, "mu-bao-hiem"))
        return enrollment.id

    results, errors = race(app, 20, complete)
    assert not errors, errors
    assert len(set(results)) == 1

    def certificates():
        from lms.db import session

        return session.execute(select(Certificate.enrollment_id, Certificate.state).where(
            Certificate.user_id == reader)).all()

    rows = in_own_transaction(app, certificates)
    assert len(rows) == 1 and rows[0][0] == results[0]
