"""The project's one rate reader (claresia/throttling.py): DRF's rate format, read the same by
the hub token throttle and the plain views' window throttle."""

import pytest

from claresia.throttling import Rate, parse_rate
from telemetry.hub.auth import HubTokenThrottle


@pytest.mark.parametrize(
    ("text", "rate"),
    [("6000/min", Rate(6000, 60)), ("20/hour", Rate(20, 3600)), ("5/s", Rate(5, 1))],
)
def test_a_rate_reads_as_requests_per_period_in_seconds(text, rate):
    assert parse_rate(text) == rate


def test_no_rate_means_no_throttle():
    assert parse_rate(None) is None


@pytest.mark.parametrize("text", ["many/min", "10/fortnight", "10", "/min"])
def test_a_malformed_rate_is_refused_not_ignored(text):
    with pytest.raises(ValueError, match="is not <requests>"):
        parse_rate(text)


def test_the_hub_token_throttle_reads_its_rate_with_the_same_reader():
    # given the DRF throttle of hub tokens, when it reads a rate, then it reads it as parse_rate
    assert HubTokenThrottle.parse_rate(None, "6000/min") == (6000, 60)
    assert HubTokenThrottle.parse_rate(None, None) == (None, None)
