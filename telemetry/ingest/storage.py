"""Batched, idempotent inserts into `fn_telemetry_event`, and the one-poller-per-tenant lock.

Rows go in as multi-row `INSERT … ON CONFLICT DO NOTHING` statements (PostgreSQL and SQLite
both speak it): the unique (tenant, source, source event id) makes a re-read event a no-op,
and the statement's row count is the number actually stored. No ORM object per row: the hot
path of the poller is one tuple per event (bench/bench_telemetry.py).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from itertools import batched

from django.db import connection

from telemetry.ingest.normalizer import COLUMNS, TelemetryRow

# 1,000 rows × 21 columns stays under PostgreSQL's 65,535 and SQLite's 32,766 parameters.
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


def telemetry_rows_insert(*, tenant_id: int, rows: Sequence[TelemetryRow]) -> int:
    """Insert rows not already stored; return how many were new. Call inside a transaction."""
    if not rows:
        return 0
    postgres = connection.vendor == "postgresql"
    adapt = connection.ops.adapt_datetimefield_value
    occurred = TelemetryRow._fields.index("occurred_at")
    stored = 0
    with connection.cursor() as wrapper:
        # The DB-API cursor under Django's: no debug-SQL formatting of 21,000 parameters.
        cursor = wrapper.cursor
        for chunk in batched(rows, ROWS_PER_STATEMENT):
            params: list = []
            for row in chunk:
                params.append(tenant_id)
                if postgres:
                    params.extend(row)
                else:
                    values = list(row)
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
