"""The poller as a real process: killed with SIGKILL at random points and restarted, two at
once, stopped with SIGTERM. The sandbox runs in this test process over loopback HTTP; the
poller processes reach it through OPENAI_API_BASE and share the test database (committed data:
`transactional_db`)."""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from connectors.services import connector_connect
from telemetry.models import TelemetryEvent
from tests.factories import COMPLIANCE_KEY
from tests.telemetry.helpers import seed, stored_ids

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[5]


@pytest.fixture
def connected(transactional_db, sandbox, tenant):
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key=COMPLIANCE_KEY)
    return tenant


def _environment(sandbox) -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "OPENAI_API_BASE": sandbox.api_base,
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
    }


# A page budget above these backlogs (200 pages): the default would leave part for the next pass.
DRAIN = ("--max-pages", "1000")


def _poller(sandbox, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "poll_telemetry", "--tenant", "dainese", *args],
        cwd=REPO,
        env=_environment(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_more_rows(process: subprocess.Popen, than: int, deadline: float = 60.0) -> int:
    """Block until the table has grown past `than` rows or the process has ended."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        count = TelemetryEvent.objects.count()
        if count > than or process.poll() is not None:
            return count
        time.sleep(0.02)
    raise AssertionError("the poller made no progress")


def test_a_poller_killed_at_random_points_and_restarted_loses_and_duplicates_nothing(
    sandbox, connected
):
    # given: a large backlog
    expected = seed(sandbox, 20_000)
    rng = random.Random(5)
    partial_counts = []

    # when: five pollers in a row are SIGKILLed at a random moment once they have progressed
    for _ in range(5):
        process = _poller(sandbox, "--once")
        before = TelemetryEvent.objects.count()
        _wait_for_more_rows(process, before)
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        partial_counts.append(TelemetryEvent.objects.count())
    # and a last one is left to finish
    survivor = _poller(sandbox, "--once", *DRAIN)
    _out, err = survivor.communicate(timeout=120)

    # then
    assert survivor.returncode == 0, err
    assert any(0 < count < len(expected) for count in partial_counts), partial_counts
    assert Counter(stored_ids(connected)) == Counter(expected)


def test_two_pollers_started_at_once_store_nothing_twice(sandbox, connected):
    # given
    expected = seed(sandbox, 10_000)

    # when
    pollers = [_poller(sandbox, "--once", *DRAIN), _poller(sandbox, "--once", *DRAIN)]
    results = [p.communicate(timeout=120) for p in pollers]

    # then
    assert [p.returncode for p in pollers] == [0, 0], results
    assert Counter(stored_ids(connected)) == Counter(expected)


def test_sigterm_stops_the_poller_cleanly_between_pages(sandbox, connected):
    # given: a looping poller in the middle of a backlog
    expected = seed(sandbox, 20_000)
    process = _poller(sandbox, "--interval", "1")
    _wait_for_more_rows(process, 0)

    # when
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    # then: it exits 0, and a later poll completes the set without duplicates
    assert process.returncode == 0, err
    assert out.rstrip().endswith("stopped")
    finisher = _poller(sandbox, "--once", *DRAIN)
    finisher.communicate(timeout=120)
    assert Counter(stored_ids(connected)) == Counter(expected)
