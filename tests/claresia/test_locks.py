"""The cluster-wide lock (claresia/locks.py): a PostgreSQL advisory lock, so two database
sessions, wherever they run, never hold the same one."""

import pytest
from django.db import connection

from claresia.locks import LockClass, advisory_lock
from tests.locks import other_session, taken_elsewhere


@pytest.fixture(autouse=True)
def _postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")


def test_a_lock_held_by_another_session_is_refused_after_the_wait():
    # given another session holding tenant 41's publish lock
    with other_session() as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [LockClass.PLUGIN_PUBLISH, 41])
        slept = []

        # when this session asks, waiting a little
        with advisory_lock(
            LockClass.PLUGIN_PUBLISH, 41, wait=0.3, sleep=slept.append, clock=lambda: len(slept)
        ) as acquired:
            # then it is refused, having asked again while it waited
            assert acquired is False
            assert slept


def test_a_held_lock_is_refused_to_another_session_and_free_once_left():
    # given this session holding tenant 42's publish lock
    with advisory_lock(LockClass.PLUGIN_PUBLISH, 42) as acquired:
        assert acquired
        # then another session cannot take it, while another tenant's is free
        assert taken_elsewhere(LockClass.PLUGIN_PUBLISH, 42)
        assert not taken_elsewhere(LockClass.PLUGIN_PUBLISH, 43)
    # and once the block is left, it is free
    assert not taken_elsewhere(LockClass.PLUGIN_PUBLISH, 42)


def test_a_lock_is_released_when_the_block_ends_on_an_exception():
    # when the block holding the lock raises
    with pytest.raises(RuntimeError), advisory_lock(LockClass.TELEMETRY_POLL, 44):
        raise RuntimeError("interrupted")
    # then the lock is free for another session
    assert not taken_elsewhere(LockClass.TELEMETRY_POLL, 44)
