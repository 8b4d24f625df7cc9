"""Cluster-wide locks: PostgreSQL advisory locks, held by a database session.

One helper for every "one at a time per tenant" in the project (the telemetry poll, the plugin
marketplace publish): the lock lives in the database every worker host shares, so two hosts can
never both hold it, and it dies with the session, so a killed worker never leaves it behind.
SQLite (the zero-setup demo run, one host, one writer) has no advisory locks: there the lock is
always granted.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# How often a waiting caller asks for the lock again.
RETRY_EVERY = 0.1


class LockClass(IntEnum):
    """The first key of `pg_try_advisory_lock(key1, key2)`: what is locked; key2 is the id."""

    TELEMETRY_POLL = 0x7E1E
    PLUGIN_PUBLISH = 0x9106


def _try(lock_class: int, key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, key])
        return bool(cursor.fetchone()[0])


def _release(lock_class: int, key: int) -> None:
    """Unlock; when the session cannot answer (a time limit interrupted a query mid-way), close
    it: PostgreSQL releases a session's advisory locks when the session ends."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, key])
    except DatabaseError:
        logger.warning("advisory lock %s/%s: session closed to release it", lock_class, key)
        connection.close()


@contextmanager
def advisory_lock(
    lock_class: int,
    key: int,
    *,
    wait: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[bool]:
    """Yield True when this session holds the lock (`lock_class`, `key`), False when another
    session held it for all of `wait` seconds. Session-level: it outlives the transactions run
    under it, and is released on the way out, whatever ends the block (an exception, a Celery
    soft time limit)."""
    if connection.vendor != "postgresql":
        yield True
        return
    deadline = clock() + wait
    acquired = _try(lock_class, key)
    while not acquired and clock() < deadline:
        sleep(RETRY_EVERY)
        acquired = _try(lock_class, key)
    try:
        yield acquired
    finally:
        if acquired:
            _release(lock_class, key)
