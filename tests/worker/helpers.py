"""Waiting on the worker subprocess."""

import subprocess
import time

import pytest


def wait_for(predicate, *, worker: subprocess.Popen, timeout: float = 60.0, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline or worker.poll() is not None:
            worker.terminate()
            log = worker.communicate(timeout=20)[0]
            pytest.fail(f"timed out waiting for {what}; the worker said:\n{log[-3000:]}")
        time.sleep(0.2)
