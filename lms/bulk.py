"""Bulk writes inside the current transaction, for data sets of a province (a million rows):
PostgreSQL COPY with ids taken from the table's sequence, SQLite batched multi-row INSERT.
Row-by-row ORM would take hours; both paths here are within a small factor of the engine's
own fastest load (bench/generate.py measures it)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, text

from lms.db import session


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def insert_rows(table: Table, rows: Sequence[dict[str, Any]],
                key: str | None = None) -> dict[Any, int]:
    """Insert rows (all with the same columns). With `key`, returns {row[key]: new id}."""
    if not rows:
        return {}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, rows, key)
    if key is None:
        connection.execute(insert(table), list(rows))
        return {}
    # Unordered RETURNING lets SQLAlchemy batch many rows per statement on SQLite; rows are
    # matched back by their key instead.
    result = connection.execute(insert(table).returning(table.c.id, table.c[key]), list(rows))
    return {row_key: row_id for row_id, row_key in result}


def _copy(connection: Any, table: Table, rows: Sequence[dict[str, Any]],
          key: str | None) -> dict[Any, int]:
    columns = list(rows[0])
    ids: list[int] = []
    if key is not None:
        sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                      {"t": table.name}).scalar_one()
        ids = list(connection.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                                      {"s": sequence, "n": len(rows)}).scalars())
        columns = ["id", *columns]
    raw = connection.connection.driver_connection  # psycopg, same transaction
    names = ", ".join(f'"{c}"' for c in columns)
    data_columns = [c for c in columns if c != "id"]
    # Enum members become their values; deciding per column once, not per cell, matters at a
    # million rows.
    enums = {c for c in data_columns if any(isinstance(r[c], enum.Enum) for r in rows[:50])}
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for index, row in enumerate(rows):
            values = [_plain(row[c]) if c in enums else row[c] for c in data_columns]
            copy.write_row([ids[index], *values] if key is not None else values)
    return {row[key]: ids[index] for index, row in enumerate(rows)} if key else {}
