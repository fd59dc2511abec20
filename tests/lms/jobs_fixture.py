"""Job kinds for the jobs tests. The Celery worker imports this module through
LMS_JOB_MODULES, as a real deployment imports the modules that register its kinds."""

from __future__ import annotations

import csv

from sqlalchemy import select

from lms import jobs
from lms.db import session
from lms.errors import ValidationFailed
from lms.storage import keep_result, result_path
from lms.units.models import Unit, UnitKind
from lms.units.service import new_unit

SECRET = "079012345678"  # stands for personal data an exception message might carry


@jobs.task("tests.export_units")
def export_units(job: jobs.Job, *, prefix: str, fail: str | None = None) -> dict:
    """Write a unit (to prove rollback), stream a CSV of units whose code starts with prefix
    to a result file, then succeed, or fail as asked."""
    new_unit(f"{prefix}-BY-JOB", "Made by a job", UnitKind.MINISTRY, None)
    session.flush()
    codes = session.execute(select(Unit.code).where(Unit.code.startswith(prefix))
                            .order_by(Unit.code)).scalars().all()
    if fail == "crash":
        raise RuntimeError(f"disk on fire while exporting {SECRET}")
    if fail == "refuse":
        raise ValidationFailed("Tệp có 3 dòng sai.")
    with result_path(".csv") as path:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["code"])
            writer.writerows([code] for code in codes)
        key = keep_result(path)
    return {"file": key, "filename": f"đơn vị-{prefix}.csv", "content_type": "text/csv",
            "rows": len(codes), "by": job.requested_by_id}
