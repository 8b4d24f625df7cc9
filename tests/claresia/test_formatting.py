"""Values shown the same way on every page: latency in seconds, long text cut with a title."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from claresia.formatting import cost_text, latency_text, truncated, when_text


@pytest.mark.parametrize(
    ("latency_ms", "text"), [(3984, "4.0 s"), (2300, "2.3 s"), (7000, "7.0 s"), (None, "—")]
)
def test_latency_reads_in_seconds_with_one_decimal(latency_ms, text):
    assert latency_text(latency_ms) == text


def test_long_text_is_cut_with_the_whole_of_it_in_the_title():
    assert truncated("short", 10) == "short"
    assert truncated("a" * 20, 10) == f'<span title="{"a" * 20}">{"a" * 9}…</span>'


def test_a_moment_always_says_its_zone():
    assert when_text(datetime(2026, 12, 3, 8, 21, 59, tzinfo=UTC)) == "2026-12-03 08:21 UTC"
    assert when_text(None) == "—"


def test_a_cost_has_one_format_everywhere():
    assert [cost_text(v) for v in (Decimal("0.02245"), Decimal("0"), Decimal("6.1"), None)] == [
        "$0.0225",
        "$0.0000",
        "$6.1000",
        "—",
    ]
