"""The floor of `python -m bench roster`: the N roster_entries rows an import writes (same
columns, same values: NFC name, masked ID, keyed hash, birth date, class id ...), built from the
same CSV before the timer, then written into a bare table (no key, no index, no constraint):

- PostgreSQL: psycopg `COPY ... FROM STDIN` (text, write_row), one transaction;
- SQLite: sqlite3 `executemany` of one plain INSERT, one transaction, the app's pragmas.

Run as `python -m bench.floor_roster ENGINE TARGET FILE`; prints one JSON line."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import sys
import time
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

COLUMNS = ("unit_id", "roster_unit_id", "personal_id_hash", "personal_id_masked", "full_name",
           "birth_on", "sex", "group_label", "status", "exempt_reason", "exempt_note",
           "user_id", "import_id", "updated_at")
PG_TABLE = """CREATE TABLE floor_roster_entries (
    unit_id integer NOT NULL, roster_unit_id integer NOT NULL,
    personal_id_hash varchar(64) NOT NULL, personal_id_masked varchar(12) NOT NULL,
    full_name varchar(200) NOT NULL, birth_on date NOT NULL, sex varchar(10),
    group_label varchar(100), status varchar(6) NOT NULL, exempt_reason varchar(12),
    exempt_note text, user_id integer, import_id integer, updated_at timestamptz NOT NULL)"""
SQLITE_TABLE = """CREATE TABLE floor_roster_entries (
    unit_id INTEGER NOT NULL, roster_unit_id INTEGER NOT NULL,
    personal_id_hash VARCHAR(64) NOT NULL, personal_id_masked VARCHAR(12) NOT NULL,
    full_name VARCHAR(200) NOT NULL, birth_on DATE NOT NULL, sex VARCHAR(10),
    group_label VARCHAR(100), status VARCHAR(6) NOT NULL, exempt_reason VARCHAR(12),
    exempt_note TEXT, user_id INTEGER, import_id INTEGER, updated_at DATETIME NOT NULL)"""
KEY = hashlib.sha256(b"bench-floor-roster").digest()


def build_rows(path: Path, iso_dates: bool) -> list[tuple]:
    """One tuple per CSV line, the values the importer would write (class ids are stand-ins:
    1..classes in the order they appear; the table has no foreign key)."""
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    next(reader)
    classes: dict[str, int] = {}
    now = datetime.now(UTC)
    updated = now.strftime("%Y-%m-%d %H:%M:%S.%f") if iso_dates else now
    rows = []
    for name, pid, born, klass in reader:
        day, month, year = born.split("/")
        birth = date(int(year), int(month), int(day))
        unit_id = classes.setdefault(klass, len(classes) + 1)
        rows.append((unit_id, 1, hmac.new(KEY, pid.encode(), hashlib.sha256).hexdigest(),
                     f"{pid[:4]}****{pid[-4:]}", unicodedata.normalize("NFC", name),
                     birth.isoformat() if iso_dates else birth, None, None, "active", None,
                     None, None, 1, updated))
    return rows


def write_postgresql(conninfo: str, path: Path) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        conn.execute(PG_TABLE)
        conn.commit()
        rows = build_rows(path, iso_dates=False)
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
                f"COPY floor_roster_entries ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        count = conn.execute("SELECT count(*) FROM floor_roster_entries").fetchone()[0]
    return seconds, count


def write_sqlite(target: str, path: Path) -> tuple[float, int]:
    import sqlite3

    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(SQLITE_TABLE)
    rows = build_rows(path, iso_dates=True)
    sql = (f"INSERT INTO floor_roster_entries ({', '.join(COLUMNS)}) "  # noqa: S608 (constant)
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    count = conn.execute("SELECT count(*) FROM floor_roster_entries").fetchone()[0]
    conn.close()
    return seconds, count


def main(argv: list[str]) -> None:
    engine, target, path = argv[0], argv[1], Path(argv[2])
    writer = write_sqlite if engine == "sqlite" else write_postgresql
    seconds, count = writer(target, path)
    print(json.dumps({"seconds": seconds, "rows": count}))


if __name__ == "__main__":
    main(sys.argv[1:])
