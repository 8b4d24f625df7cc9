"""Batched, idempotent inserts into `fn_telemetry_event`, and the one-poller-per-tenant lock.

On PostgreSQL rows are COPYed (binary) into a temporary table, then moved with one
`INSERT … SELECT … ON CONFLICT DO NOTHING`; on SQLite (the demo run) they go in as multi-row
`INSERT … ON CONFLICT DO NOTHING`. Either way the unique (tenant, source, source event id)
makes a re-read event a no-op, and the statement's row count is the number actually stored.
No ORM object per row: the hot path of the poller is one tuple per event
(bench/bench_telemetry.py; psycopg's client-side parsing of a 21,000-parameter INSERT costs
more than the rows themselves).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from itertools import batched

from django.db import connection

from claresia.locks import LockClass, advisory_lock
from telemetry.ingest.rows import COLUMNS, TelemetryRow

# 1,000 rows × 23 columns stays under SQLite's 32,766 parameters.
ROWS_PER_STATEMENT = 1000
# pg_try_advisory_lock(key1, key2): key1 names "telemetry poll", key2 is the tenant id.
POLL_LOCK_CLASS = LockClass.TELEMETRY_POLL


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
    """Yield True when this process may poll the tenant, False when another one is at it: the
    project's advisory lock (claresia/locks.py), released even when a time limit ends the poll."""
    with advisory_lock(POLL_LOCK_CLASS, tenant_id) as acquired:
        yield acquired
