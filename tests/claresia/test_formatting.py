"""Values shown the same way on every page: latency in seconds, long text cut with a title."""

import pytest

from claresia.formatting import latency_text, truncated


@pytest.mark.parametrize(
    ("latency_ms", "text"), [(3984, "4.0 s"), (2300, "2.3 s"), (7000, "7.0 s"), (None, "—")]
)
def test_latency_reads_in_seconds_with_one_decimal(latency_ms, text):
    assert latency_text(latency_ms) == text


def test_long_text_is_cut_with_the_whole_of_it_in_the_title():
    assert truncated("short", 10) == "short"
    assert truncated("a" * 20, 10) == f'<span title="{"a" * 20}">{"a" * 9}…</span>'
