"""The WSGI → asyncio bridge (telemetry/app_connection/bridge.py): a kept loop per request thread,
sync work back on the request's own thread, and nothing of asgiref's written."""

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.local import Local
from asgiref.sync import AsyncToSync, SyncToAsync
from django.db import connection
from django.test import Client

from telemetry.app_connection.bridge import Bridge
from telemetry.app_connection.server import bridge as mcp_bridge
from telemetry.hub.models import HubRecord
from tests.telemetry.app_connection.helpers import RECORD_BODY, call, mcp_token, rpc

THREADS = 4


def _bridge(entered: list | None = None, left: list | None = None) -> Bridge:
    @contextlib.asynccontextmanager
    async def resources():
        if entered is not None:
            entered.append(threading.get_ident())
        try:
            yield {"loop": asyncio.get_running_loop()}
        finally:
            if left is not None:
                left.append(threading.get_ident())

    return Bridge(resources)


def test_each_thread_keeps_its_own_loop_and_runs_sync_work_on_itself():
    # given: a bridge, and a coroutine asking for sync work in the middle
    entered, left = [], []
    bridge = _bridge(entered, left)

    def sync_work(value):
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # no loop runs here: Django allows the ORM
        return threading.get_ident(), value

    async def exchange(state, value):
        loop = asyncio.get_running_loop()
        assert state["loop"] is loop
        ident, echoed = await bridge.run_sync(sync_work, value)
        return loop, ident, echoed

    all_started = threading.Barrier(THREADS)

    def request_thread(index):
        all_started.wait()  # four distinct threads, not one reused
        try:
            first = bridge.call(exchange, index)
            second = bridge.call(exchange, index + 100)
            return threading.get_ident(), first, second
        finally:
            bridge.close_thread()

    # when: several request threads at once, twice each
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(request_thread, range(THREADS)))

    # then: one loop per thread, kept across calls, entered and left once; sync work on the caller
    loops = set()
    for (ident, first, second), index in zip(results, range(THREADS), strict=True):
        assert first[0] is second[0]
        assert first[1:] == (ident, index)
        assert second[1:] == (ident, index + 100)
        loops.add(id(first[0]))
    assert len(loops) == THREADS
    assert sorted(entered) == sorted(ident for ident, _, _ in results)
    assert sorted(left) == sorted(entered)
    assert all(first[0].is_closed() for _, first, _ in results)


def test_errors_reach_whoever_waits_for_them():
    bridge = _bridge()

    def fails():
        raise ValueError("from the sync side")

    async def catches(_state):
        with pytest.raises(ValueError, match="sync side"):
            await bridge.run_sync(fails)
        raise KeyError("from the coroutine")

    with pytest.raises(KeyError, match="coroutine"):
        bridge.call(catches)
    # and the thread's loop serves the next call
    assert bridge.call(_answer) == 42
    bridge.close_thread()


async def _answer(_state):
    return 42


def test_a_loop_whose_context_ended_is_replaced():
    # given: a context that fails once its loop runs again
    made = []

    @contextlib.asynccontextmanager
    async def resources():
        made.append(1)
        yield None

    bridge = Bridge(resources)
    assert bridge.call(_answer) == 42
    bridge._local.loop._task.cancel()  # as a failed task group ends it
    bridge.call(_answer)

    # when / then: the next call makes a new loop and context
    assert bridge.call(_answer) == 42
    assert len(made) == 2
    bridge.close_thread()


class _Recording(threading.local):
    """asgiref's thread-local, recording every attribute written to it."""

    writes: list = []

    def __setattr__(self, name, value):
        type(self).writes.append(name)
        super().__setattr__(name, value)


class _RecordingLocal:
    """asgiref's Local (which may not be subclassed), behind a proxy recording every write."""

    writes: list = []

    def __init__(self) -> None:
        object.__setattr__(self, "_inner", Local())

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __setattr__(self, name, value):
        type(self).writes.append(name)
        setattr(self._inner, name, value)

    def __delattr__(self, name):
        type(self).writes.append(name)
        delattr(self._inner, name)


@pytest.fixture
def asgiref_writes(monkeypatch):
    """Every write to asgiref's thread-local state (SyncToAsync.threadlocal, where the old
    bridge recorded its loop; AsyncToSync.executors), from any thread."""
    _Recording.writes, _RecordingLocal.writes = [], []
    monkeypatch.setattr(SyncToAsync, "threadlocal", _Recording())
    monkeypatch.setattr(AsyncToSync, "executors", _RecordingLocal())
    return lambda: _Recording.writes + _RecordingLocal.writes


def test_the_detector_sees_a_write_to_asgiref_private_state(asgiref_writes):
    # the old bridge's write, on a made-up case: the detector must see it
    SyncToAsync.threadlocal.main_event_loop = asyncio.new_event_loop()
    SyncToAsync.threadlocal.main_event_loop.close()

    assert asgiref_writes() == ["main_event_loop"]


@pytest.mark.django_db(transaction=True)
def test_mcp_from_several_wsgi_threads_writes_nothing_of_asgirefs(tenant, skill, asgiref_writes):
    # given: one token, and several request threads as gunicorn's threaded workers have
    token = mcp_token(tenant)

    def request_thread(index):
        try:
            answers = [
                rpc(Client(), token, call("emit_hub_record", {**RECORD_BODY, "record_key": key}))
                for key in (f"t{index}-a", f"t{index}-b")
            ]
            return [(a.status_code, a.json()["result"]["isError"]) for a in answers]
        finally:
            mcp_bridge.close_thread()
            connection.close()

    # when
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(request_thread, range(THREADS)))

    # then: every call recorded, on its thread's loop, and asgiref's state untouched
    assert results == [[(200, False), (200, False)]] * THREADS
    assert HubRecord.objects.count() == 2 * THREADS
    assert asgiref_writes() == []


def test_run_sync_outside_a_bridged_call_is_refused():
    # given: a coroutine run by someone else's loop, not by Bridge.call
    bridge = _bridge()

    async def elsewhere():
        return await bridge.run_sync(lambda: 1)

    # then: refused, and the thread's next call is unaffected
    with pytest.raises(RuntimeError, match="run_sync"):
        asyncio.run(elsewhere())
    assert bridge.call(_answer) == 42
    bridge.close_thread()
