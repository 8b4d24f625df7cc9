"""Celery's soft time limit, as the services see it.

A task with `soft_time_limit` gets `SoftTimeLimitExceeded` raised wherever it is at that moment
(a stalled download, a pacing wait, a git call); the service that runs the task lets it through
its own "one failure is not the end" handlers, releases its locks on the way out
(claresia/locks.py) and records the reason on the row the person or the health page reads.
The hard `time_limit`, a little later, kills the process if even that did not finish.
"""

import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection

__all__ = ["SoftTimeLimitExceeded", "time_limit_reason"]


def time_limit_reason(started: float, *, clock: Callable[[], float] = time.monotonic) -> str:
    """What the row says: "stopped after 300 s: time limit" (`started` from `clock`).

    The limit may have interrupted a query mid-way, leaving the session unable to answer: it is
    closed then (Django opens a fresh one for the record written next)."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()
    return f"stopped after {max(0, round(clock() - started))} s: time limit"
