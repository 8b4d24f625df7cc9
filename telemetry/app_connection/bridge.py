"""The bridge from a WSGI request thread to asyncio, for the MCP SDK (an async library) inside
a sync Django view.

Each thread that serves requests owns one event loop, made on first use (so after gunicorn
forks) and kept, on which a long-lived async context runs (for /mcp: the SDK server's lifespan
and its session manager). `call` runs one coroutine to completion on that loop, driven by the
request's own thread; inside it, `run_sync` runs Django code (the ORM) on the same thread with
the loop paused, so on the request's own database connection and with no event loop running
(Django refuses the ORM while one runs in its thread). No second thread, so no hand-off between
threads per call; and nothing of asgiref's is read or written (docs/architecture.md, "The
WSGI bridge").

Only asyncio's public API: a loop per thread (`new_event_loop`), `run_until_complete`, futures."""

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any


class _ThreadLoop:
    """A thread's event loop and the long-lived async context entered on it once."""

    def __init__(self, resources: Callable[[], contextlib.AbstractAsyncContextManager]) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.state: Any = None
        self.work: tuple[functools.partial, asyncio.Future] | None = None
        self.driving = False
        entered = self.loop.create_future()
        self._task = self.loop.create_task(self._hold(resources, entered))
        self.loop.run_until_complete(entered)

    async def _hold(self, resources, entered: asyncio.Future) -> None:
        try:
            async with resources() as self.state:
                entered.set_result(None)
                await self.loop.create_future()  # for the life of the thread
        except BaseException as error:
            if not entered.done():
                entered.set_exception(error)
            raise

    def stop(self, *_) -> None:
        self.loop.stop()

    @property
    def usable(self) -> bool:
        # Made in another process (before a fork), or its context ended (a failed task group):
        # serves nothing more.
        return self.pid == os.getpid() and not self._task.done()


class Bridge:
    """Runs coroutines from sync request threads, one event loop per thread.

    `resources` makes the async context manager entered once per thread's loop; what it yields
    is passed as the first argument of every coroutine function given to `call`."""

    def __init__(self, resources: Callable[[], contextlib.AbstractAsyncContextManager]) -> None:
        self._resources = resources
        self._local = threading.local()

    def _thread_loop(self) -> _ThreadLoop:
        held = getattr(self._local, "loop", None)
        if held is None or not held.usable:
            if held is not None and held.pid == os.getpid():
                held.loop.close()  # its context ended; a forked parent's loop is left alone
            held = self._local.loop = _ThreadLoop(self._resources)
        return held

    def call(self, function: Callable[..., Awaitable], *args):
        """`await function(state, *args)` on this thread's loop; its result or its exception.

        The loop runs only inside this call (`run_forever`, stopped by whoever needs this thread
        back). When the coroutine awaits `run_sync`, the loop stops, the work runs here, and the
        loop resumes with its result; when the coroutine ends, the loop stops and its result is
        returned."""
        held = self._thread_loop()
        if held.driving:
            raise RuntimeError("Bridge.call is not reentrant within one thread.")
        held.driving = True
        loop = held.loop
        try:
            task = loop.create_task(function(held.state, *args))
            task.add_done_callback(held.stop)
            while True:
                if held.work is not None:
                    (work, done), held.work = held.work, None
                    try:
                        done.set_result(work())
                    except Exception as error:  # the coroutine that asked gets it
                        done.set_exception(error)
                elif task.done():
                    return task.result()
                loop.run_forever()
        finally:
            held.work = None
            held.driving = False

    def close_thread(self) -> None:
        """Leave this thread's loop: its context is exited (the SDK's manager and lifespan shut
        down) and the loop closed. For a thread that ends before its process (gunicorn's
        threads live as long as their worker, whose exit ends everything)."""
        held = getattr(self._local, "loop", None)
        self._local.loop = None
        if held is None or held.pid != os.getpid():
            return
        held._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            held.loop.run_until_complete(held._task)
        held.loop.close()

    async def run_sync(self, function: Callable, *args, **kwargs):
        """From a coroutine running under `call`: `function(*args, **kwargs)` on the request's
        thread, with no event loop running (the ORM is allowed, on the request's connection)."""
        held = getattr(self._local, "loop", None)
        if held is None or not held.driving:
            raise RuntimeError("Bridge.run_sync is for coroutines run by Bridge.call.")
        done = held.loop.create_future()
        held.work = (functools.partial(function, *args, **kwargs), done)
        held.loop.stop()  # after this step: `call` runs the work, then the loop again
        return await done
