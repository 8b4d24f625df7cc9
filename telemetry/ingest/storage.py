"""Batched, idempotent inserts into `fn_telemetry_event`, and the one-poller-per-tenant lock.

On PostgreSQL the batch's ids already stored are looked up with one indexed query, and only the
new rows are COPYed (binary) straight into the table: no temporary table, no second pass over
the rows. The unique (tenant, source, source event id) still guards exactly-once: if a
concurrent writer (a second process without the poll lock, an audit-export import of the same
file) stores one of those ids between the look-up and the COPY, the COPY fails on the
constraint, is rolled back to its savepoint and the batch goes in the slower way that tolerates
it — COPY into a temporary table, then `INSERT … SELECT … ON CONFLICT DO NOTHING`. On SQLite
(the demo run) rows go in as multi-row `INSERT … ON CONFLICT DO NOTHING`. Every way, the count
returned is the number of rows actually stored.
No ORM object per row: the hot path of the poller is one tuple per event
(bench/bench_telemetry.py; psycopg's client-side parsing of a 21,000-parameter INSERT costs
more than the rows themselves).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from itertools import batched

import psycopg
from django.db import connection, transaction
from psycopg.types.json import Jsonb

from telemetry.ingest.normalizer import COLUMNS, TelemetryRow

# 1,000 rows × 21 columns stays under SQLite's 32,766 parameters.
ROWS_PER_STATEMENT = 1000
# pg_try_advisory_lock(key1, key2): key1 names "telemetry poll", key2 is the tenant id.
POLL_LOCK_CLASS = 0x7E1E


@cache
def _insert_sql(count: int) -> str:
    values = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    # Only our own column names and placeholders are joined here; values are parameters.
    return (
        f"INSERT INTO fn_telemetry_event ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
        + ", ".join([values] * count)
        + " ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING"
    )


_LOAD_TABLE = "fn_telemetry_event_load"
_COLUMN_LIST = ", ".join(COLUMNS)
# Binary COPY needs each column's type; `raw` is loaded as text and cast to jsonb on insert
# (binary jsonb would want a Python object, and we hold the JSON text already).
_COPY_TYPES = {
    "tenant_id": "int8",
    "skill_id": "int8",
    "skill_unknown": "bool",
    "occurred_at": "timestamptz",
    "input_tokens": "int4",
    "output_tokens": "int4",
    "cost_usd": "numeric",
    "latency_ms": "int4",
}
_LOAD_TYPES = [_COPY_TYPES.get(column, "text") for column in COLUMNS]
_LOAD_COLUMNS = ", ".join(
    f"{column}::text AS {column}" if column == "raw" else column for column in COLUMNS
)
_INSERT_COLUMNS = ", ".join(f"{c}::jsonb" if c == "raw" else c for c in COLUMNS)


# The ids of the batch already stored, per source; `prepare=False` below keeps PostgreSQL on a
# plan for these values (a cached generic plan for `= ANY($3)` turned into a sequential scan
# after a few batches: seconds per batch on a million rows, bench_telemetry).
_STORED_IDS = (
    "SELECT source_event_id FROM fn_telemetry_event "
    "WHERE tenant_id = %s AND source = %s AND source_event_id = ANY(%s)"
)
_DIRECT_TYPES = [*_LOAD_TYPES[:-1], "jsonb"]


def _same_text(text: str) -> str:
    return text


def _new_rows(cursor, tenant_id: int, rows: Sequence[TelemetryRow]) -> list[TelemetryRow]:
    """The rows whose (source, id) is neither stored yet nor earlier in the batch."""
    ids_by_source: dict[str, list[str]] = {}
    for row in rows:
        ids_by_source.setdefault(row.source, []).append(row.source_event_id)
    seen: set[tuple[str, str]] = set()
    for source, ids in ids_by_source.items():
        cursor.execute(_STORED_IDS, [tenant_id, source, ids], prepare=False)
        seen.update((source, stored_id) for (stored_id,) in cursor.fetchall())
    new = []
    for row in rows:
        key = (row.source, row.source_event_id)
        if key not in seen:
            seen.add(key)
            new.append(row)
    return new


def _copy_new(tenant_id: int, rows: Sequence[TelemetryRow]) -> int:
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        new = _new_rows(cursor, tenant_id, rows)
        if not new:
            return 0
        with cursor.copy(
            f"COPY fn_telemetry_event ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(_DIRECT_TYPES)
            for row in new:
                # `raw` is already JSON text: handed to the jsonb dumper as is, not re-encoded.
                copy.write_row((tenant_id, *row[:-1], Jsonb(row.raw, dumps=_same_text)))
    return len(new)


def _copy_insert(tenant_id: int, rows: Sequence[TelemetryRow]) -> int:
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        # Per session, emptied at each commit; only our own names go into this SQL.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_LOAD_TABLE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {_LOAD_COLUMNS} FROM fn_telemetry_event WITH NO DATA"
        )
        with cursor.copy(f"COPY {_LOAD_TABLE} ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_LOAD_TYPES)
            for row in rows:
                copy.write_row((tenant_id, *row))
        cursor.execute(
            f"INSERT INTO fn_telemetry_event ({_COLUMN_LIST}) "  # noqa: S608
            f"SELECT {_INSERT_COLUMNS} FROM {_LOAD_TABLE} "
            "ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING"
        )
        stored = max(cursor.rowcount, 0)
        cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
    return stored


def telemetry_rows_insert(*, tenant_id: int, rows: Sequence[TelemetryRow]) -> int:
    """Insert rows not already stored; return how many were new. Call inside a transaction."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():  # a savepoint: a failed COPY leaves the batch untouched
                return _copy_new(tenant_id, rows)
        except psycopg.errors.UniqueViolation:
            # A concurrent writer stored one of these ids after the look-up (module docstring).
            return _copy_insert(tenant_id, rows)
    adapt = connection.ops.adapt_datetimefield_value
    occurred = COLUMNS.index("occurred_at")
    stored = 0
    with connection.cursor() as wrapper:
        # The DB-API cursor under Django's: no debug-SQL formatting of 21,000 parameters.
        cursor = wrapper.cursor
        for chunk in batched(rows, ROWS_PER_STATEMENT):
            params: list = []
            for row in chunk:
                values = [tenant_id, *row]
                values[occurred] = adapt(values[occurred])
                params.extend(values)
            cursor.execute(_insert_sql(len(chunk)), params)
            stored += max(cursor.rowcount, 0)
    return stored


@contextmanager
def tenant_poll_lock(tenant_id: int) -> Iterator[bool]:
    """Yield True when this process may poll the tenant, False when another one is at it.

    A session-level PostgreSQL advisory lock: it outlives the per-batch transactions and dies
    with the connection, so a killed poller never leaves it behind. SQLite (the zero-setup demo
    run) has a single writer anyway: there the lock is always granted.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [POLL_LOCK_CLASS, tenant_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [POLL_LOCK_CLASS, tenant_id])
