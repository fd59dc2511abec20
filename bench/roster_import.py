"""Ours for `python -m bench roster`: `import_roster` itself, timed inside the app.
Run as `python -m bench.roster_import (dry-run|commit) UNIT_CODE FILE [PROFILE_FILE]` with the
throwaway database in LMS_DATABASE_URL; prints one JSON line.

The timer covers what `flask rosters import` does after start-up: read the file, then
`import_roster(None, UNIT_CODE, ...)` inside `lms.db.transaction()`, commit included. App
creation and imports are outside it (they are the process's wall time). With PROFILE_FILE the
same work runs under cProfile and the stats are written there (the time is then inflated)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    mode, unit_code, path = argv[0], argv[1], Path(argv[2])
    profile_file = argv[3] if len(argv) > 3 else None
    from enrollment.rosters.importer import import_roster
    from lms.db import transaction
    from wsgi import app

    def work():
        with transaction():
            return import_roster(None, unit_code, path.name, path.read_bytes(),
                                 dry_run=mode == "dry-run")

    with app.app_context():
        if profile_file:
            import cProfile

            profiler = cProfile.Profile()
            started = time.perf_counter()
            report = profiler.runcall(work)
            seconds = time.perf_counter() - started
            profiler.dump_stats(profile_file)
        else:
            started = time.perf_counter()
            report = work()
            seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": report.rows, "added": report.added,
                      "changed": report.changed, "removed": report.removed,
                      "unchanged": report.unchanged, "problems": len(report.problems),
                      "first_problems": report.problems[:5], "import_id": report.import_id},
                     ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
