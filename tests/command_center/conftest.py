"""The Command Center's tests run with the clock stopped at NOW (`helpers.py`)."""

import pytest
import time_machine

from tests.command_center.helpers import NOW


@pytest.fixture(autouse=True)
def frozen_now():
    """The Command Center's pages ask the clock for "now" (default period, poll lag): stop it at
    NOW, where these tests put their events, so that the suite passes on any day."""
    with time_machine.travel(NOW, tick=False):
        yield NOW
