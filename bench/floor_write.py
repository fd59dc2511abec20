"""The floor of `python -m bench generate`: the rows `flask demo generate` writes (units, users,
role_grants), pre-generated cheaply, then written by hand-written SQL in one transaction.
Run as `python -m bench.floor_write ENGINE TARGET LEARNERS`; prints one JSON line."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

# The shape of lms/demo/generate.py (same codes, paths, sizes), so the same unique indexes
# see the same keys.
CLASS_SIZE, SCHOOL_SIZE, PREFIX, PROVINCE = 40, 800, "GEN", "01"
ISSUER = "urn:hocvuso:synthetic"
NAMES = ["Nguyễn Văn An", "Trần Thị Lan", "Lê Đức Hùng", "Phạm Ngọc Mai", "Giàng A Páo",
         "Lò Thị Sình", "Hoàng Minh Tuấn", "Vũ Thu Hương"]

UNIT_COLUMNS = ("id", "code", "name", "kind", "parent_id", "path", "depth", "is_active",
                "created_at")
USER_COLUMNS = ("id", "issuer", "subject", "full_name", "birth_on", "personal_id_hash",
                "personal_id_masked", "is_active", "created_at")
GRANT_COLUMNS = ("user_id", "role", "unit_id", "granted_at")
TABLES = ("units", "users", "role_grants")


def build_rows(learners: int, communes: list[tuple[int, str, int]], next_unit: int,
               next_user: int, now: str, true: Any) -> dict[str, list[tuple]]:
    """Schools of 800 and classes of 40 over the communes, one learner grant each. Hashes are
    random (like HMACs, so the unique index gets random inserts); names and dates cycle."""
    rng = random.Random(1)
    schools = max(1, math.ceil(learners / SCHOOL_SIZE))
    per_school = math.ceil(SCHOOL_SIZE / CLASS_SIZE)
    units, school_info = [], []
    for s in range(1, schools + 1):
        commune_id, path, depth = communes[(s - 1) % len(communes)]
        code = f"{PREFIX}-S{s}"
        school_info.append((next_unit, f"{path}{code}/", depth + 1))
        units.append((next_unit, code, f"Trường tổng hợp số {s}", "school", commune_id,
                       f"{path}{code}/", depth + 1, true, now))
        next_unit += 1
    first_class = next_unit
    for c in range(math.ceil(learners / CLASS_SIZE)):
        school_id, path, depth = school_info[c // per_school]
        code = f"{PREFIX}-S{c // per_school + 1}-L{c % per_school + 1}"
        units.append((next_unit, code, f"Lớp {c % per_school + 1}", "class", school_id,
                      f"{path}{code}/", depth + 1, true, now))
        next_unit += 1
    start = date(2008, 1, 1)
    births = [(start + timedelta(days=d)).isoformat() for d in range(4000)]
    users = [(next_user + i, ISSUER, f"{PREFIX}-{i}", NAMES[i % 8], births[i % 4000],
              f"{rng.getrandbits(256):064x}", f"0012****{i % 10000:04d}", true, now)
             for i in range(learners)]
    grants = [(next_user + i, "learner", first_class + i // CLASS_SIZE, now)
              for i in range(learners)]
    return {"units": units, "users": users, "role_grants": grants}


def fit_columns(rows: dict[str, list[tuple]], present: dict[str, set[str]]
                ) -> dict[str, tuple[str, ...]]:
    """Drop, in place, the columns a table no longer has (the schema moves on; the floor
    follows it, and the row-count check in bench/generate.py catches any other drift)."""
    chosen = {}
    for table, columns in (("units", UNIT_COLUMNS), ("users", USER_COLUMNS),
                           ("role_grants", GRANT_COLUMNS)):
        keep = [i for i, c in enumerate(columns) if c in present[table]]
        if len(keep) < len(columns):
            pick = itemgetter(*keep)
            rows[table] = [pick(row) for row in rows[table]]
        chosen[table] = tuple(columns[i] for i in keep)
    return chosen


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (constant names)
            f"VALUES ({', '.join('?' * len(columns))})")


def write_sqlite(path: str, learners: int) -> tuple[float, dict[str, int]]:
    """sqlite3 executemany of a plain INSERT per table, one transaction, the app's pragmas."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    communes = conn.execute(
        "SELECT id, path, depth FROM units WHERE parent_id = (SELECT id FROM units "
        "WHERE code = ?) ORDER BY code", (PROVINCE,)).fetchall()
    next_unit = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM units").fetchone()[0]
    next_user = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM users").fetchone()[0]
    # SQLAlchemy's SQLite DateTime storage format
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = build_rows(learners, communes, next_unit, next_user, now, 1)
    columns = fit_columns(rows, {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")}
                                 for t in TABLES})
    started = time.perf_counter()
    conn.execute("BEGIN")
    for table in TABLES:
        conn.executemany(_insert(table, columns[table]), rows[table])
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, {k: len(v) for k, v in rows.items()}


def write_postgresql(conninfo: str, learners: int) -> tuple[float, dict[str, int]]:
    """COPY ... FROM STDIN per table via psycopg, then the two id sequences moved past the
    explicit ids; one transaction."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        communes = conn.execute(
            "SELECT id, path, depth FROM units WHERE parent_id = (SELECT id FROM units "
            "WHERE code = %s) ORDER BY code", (PROVINCE,)).fetchall()
        next_unit = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM units").fetchone()[0]
        next_user = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM users").fetchone()[0]
        conn.commit()
        rows = build_rows(learners, communes, next_unit, next_user,
                          datetime.now(UTC).isoformat(), True)
        present: dict[str, set[str]] = {t: set() for t in TABLES}
        for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema()"):
            present.setdefault(table, set()).add(column)
        conn.commit()
        columns = fit_columns(rows, present)
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table in TABLES:
                sql = f"COPY {table} ({', '.join(columns[table])}) FROM STDIN"
                with cur.copy(sql) as copy:
                    for row in rows[table]:
                        copy.write_row(row)
            for table in ("units", "users"):
                sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: E501, S608 (constant names)
                cur.execute(sql)
        conn.commit()
        seconds = time.perf_counter() - started
    return seconds, {k: len(v) for k, v in rows.items()}


def main(argv: list[str]) -> None:
    engine, target, learners = argv[0], argv[1], int(argv[2])
    writer = write_sqlite if engine == "sqlite" else write_postgresql
    seconds, counts = writer(target, learners)
    print(json.dumps({"seconds": seconds, "rows": counts}))


if __name__ == "__main__":
    main(sys.argv[1:])
