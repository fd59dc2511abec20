"""A job kind for tests/lms/test_job_faults.py: an export that, on its first run, writes half
its file, says so in a marker file and then waits to be killed (the worker's imports include
this module through LMS_JOB_MODULES)."""

from __future__ import annotations

import time
from pathlib import Path

from lms import jobs
from lms.storage import keep_result, result_path

ROWS = 1000


def expected_csv() -> bytes:
    return ("n\n" + "".join(f"{i}\n" for i in range(ROWS))).encode()


@jobs.task("tests.slow_export")
def slow_export(job: jobs.Job, *, marker: str) -> dict:
    first_run = not Path(marker).exists()
    with result_path(".csv") as path:
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write("n\n")
            fh.writelines(f"{i}\n" for i in range(ROWS // 2))
            fh.flush()
            if first_run:
                Path(marker).write_text("half written")  # the test kills the worker now
                time.sleep(600)
            fh.writelines(f"{i}\n" for i in range(ROWS // 2, ROWS))
        key = keep_result(path)
    return {"file": key, "filename": "slow.csv", "content_type": "text/csv", "rows": ROWS}
