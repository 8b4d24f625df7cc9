"""The ChatGPT admin API's limit kept for every process (connectors/openai/pacing.py): one window
per workspace, method and route in Redis, and a 429's `Retry-After` pausing that route for all."""

import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from connectors.openai import chatgpt_admin
from connectors.openai.client import Host, OpenAIClient, RetryPolicy
from connectors.openai.errors import RateLimitedError
from connectors.openai.pacing import SharedRoutePacer

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOGS = "CONVERSATION_MESSAGE"


def _shared(per_minute: int, window: float, url: str = REDIS_URL) -> SharedRoutePacer:
    """A pacer with its own Redis connection: what another process holds."""
    return SharedRoutePacer(
        redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25),
        per_minute,
        window=window,
    )


def _key() -> str:
    return f"GET compliance/workspaces/{uuid.uuid4()}/logs"


def test_pacers_of_two_processes_share_one_window_per_route():
    # given two processes' pacers, 3 requests per 2 s, and a route whose 3 slots one has taken
    first, second = _shared(3, 2.0), _shared(3, 2.0)
    route, other_route = _key(), _key()
    assert [first.delay(route) for _ in range(3)] == [0.0, 0.0, 0.0]

    # when the other process asks for the same route, and for another
    wait = second.delay(route)

    # then it must wait for the oldest slot to leave the window; the other route is free
    assert 0 < wait <= 2.5
    assert second.delay(other_route) == 0.0


def test_a_pause_in_one_process_holds_the_route_in_another():
    # given a route one process was told to leave alone for 3 s (a 429's Retry-After)
    first, second = _shared(100, 60.0), _shared(100, 60.0)
    route = _key()
    first.pause(route, 3.0)

    # when another process asks for that route
    wait = second.delay(route)

    # then it waits out the pause
    assert 2.0 < wait <= 3.0


def test_without_redis_the_pacer_fails_open_per_process_with_one_warning(caplog):
    # given a pacer whose Redis does not answer
    pacer = _shared(2, 60.0, url="redis://127.0.0.1:1/0")
    route = _key()

    # when it is asked for three slots
    with caplog.at_level(logging.WARNING, logger="connectors.openai.pacing"):
        delays = [pacer.delay(route) for _ in range(3)]

    # then the process's own window paces them, and one line says why
    assert delays[:2] == [0.0, 0.0] and delays[2] > 0
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1


def _limits(sandbox, per_minute: int, window: float) -> None:
    httpx.post(
        f"{sandbox.url}/_sandbox/compliance/rate_limit",
        json={"per_minute": per_minute, "window": window},
    ).raise_for_status()


def _route_stats(sandbox, workspace: str) -> dict:
    stats = httpx.get(f"{sandbox.url}/_sandbox/compliance/stats").json()
    (route,) = [r for r in stats["routes"] if r["principal"] == workspace]
    return route


def _process(sandbox, workspace: str, requests: int, per_minute: int, window: float):
    env = {
        **os.environ,
        "CHATGPT_ADMIN_API_BASE": sandbox.api_base,
        "CHATGPT_ADMIN_PACING_REDIS_URL": REDIS_URL,
        "CHATGPT_ADMIN_RATE_LIMIT": str(per_minute),
        "CHATGPT_ADMIN_RATE_WINDOW": str(window),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.connectors.openai.pacing_process", workspace, str(requests)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(process) -> float:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    return float(out.strip())


@pytest.mark.integration
def test_two_workers_and_the_web_polling_one_workspace_stay_under_its_limit(sandbox, settings):
    # given the API's limit at 4 requests per 2 s, and Claresia's pacer told the same
    _limits(sandbox, 4, 2.0)
    settings.CHATGPT_ADMIN_PACING_REDIS_URL = REDIS_URL
    settings.CHATGPT_ADMIN_RATE_LIMIT, settings.CHATGPT_ADMIN_RATE_WINDOW = 4, 2.0
    workspace = str(uuid.uuid4())
    principal = chatgpt_admin.Principal.workspace(workspace)

    # when two worker processes and this one (the web) each list the workspace's logs 4 times
    workers = [_process(sandbox, workspace, 4, 4, 2.0) for _ in range(2)]
    with OpenAIClient(api_key="sk-admin-pacing-test", host=Host.CHATGPT_ADMIN) as web:
        for _ in range(4):
            chatgpt_admin.logs_page(web, principal, event_type=LOGS, after="2026-01-01T00:00:00Z")
    for worker in workers:
        _finished(worker)

    # then the API answered all 12 and refused none
    route = _route_stats(sandbox, workspace)
    assert (route["answered"], route["rate_limited"]) == (12, 0)


@pytest.mark.integration
def test_a_429_in_one_process_pauses_the_route_for_the_others(sandbox, settings):
    # given a workspace whose route the API has refused to this process (its window of 5 s is
    # full with requests Claresia did not send), the client not retrying
    _limits(sandbox, 2, 5.0)
    settings.CHATGPT_ADMIN_PACING_REDIS_URL = REDIS_URL
    workspace = str(uuid.uuid4())
    principal = chatgpt_admin.Principal.workspace(workspace)
    for _ in range(2):
        httpx.get(
            f"{sandbox.api_base}/{principal.prefix}/logs",
            params={"event_type": LOGS, "after": "2026-01-01T00:00:00Z"},
            headers={"Authorization": "Bearer sk-admin-pacing-test"},
        ).raise_for_status()
    with (
        OpenAIClient(
            api_key="sk-admin-pacing-test",
            host=Host.CHATGPT_ADMIN,
            retry=RetryPolicy(max_attempts=1),
        ) as web,
        pytest.raises(RateLimitedError),
    ):
        chatgpt_admin.logs_page(web, principal, event_type=LOGS, after="2026-01-01T00:00:00Z")
    refused_at = time.monotonic()

    # when another process lists the same workspace's logs at once
    worker = _process(sandbox, workspace, 1, 100, 60.0)
    _finished(worker)

    # then it waited for the Retry-After instead of meeting a 429 of its own
    assert time.monotonic() - refused_at >= 3.0
    route = _route_stats(sandbox, workspace)
    assert (route["answered"], route["rate_limited"]) == (3, 1)
