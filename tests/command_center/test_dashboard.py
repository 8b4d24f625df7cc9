"""The dashboard's selectors: periods, buckets, aggregates in PostgreSQL, CSV cells."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from telemetry.dashboard import (
    PeriodError,
    _latency_in_python,
    dashboard_csv,
    dashboard_period,
    percentile,
    telemetry_cost_by_skill,
    telemetry_dashboard,
    telemetry_failure_reasons,
    telemetry_latency_by_skill,
    telemetry_volume,
)
from telemetry.models import TelemetryEvent
from tests.command_center.helpers import NOW, add_event

pytestmark = pytest.mark.django_db


def period(preset="24h"):
    return dashboard_period(now=NOW, preset=preset)


# ---- periods --------------------------------------------------------------------------------


def test_a_day_is_bucketed_by_hour_and_a_month_by_day():
    assert period("24h").bucket == "hour"
    assert len(period("24h").buckets()) == 25  # the partial first hour counts too
    assert period("30d").bucket == "day"
    assert len(period("30d").buckets()) == 31


def test_a_custom_period_covers_the_whole_to_day():
    # when
    chosen = dashboard_period(now=NOW, start="2026-11-01", end="2026-11-03")

    # then
    assert chosen.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert chosen.end == datetime(2026, 11, 4, tzinfo=UTC)
    assert chosen.preset == "custom"


@pytest.mark.parametrize(
    ("preset", "start", "end", "message"),
    [
        ("1y", "", "", "Choose one of the periods"),
        ("", "2026-11-01", "", "Give both"),
        ("", "yesterday", "2026-11-03", "“from” must be a date"),
        ("", "2026-11-05", "2026-11-01", "“to” must be after “from”"),
        ("", "2020-01-01", "2026-11-01", "at most 366 days"),
    ],
)
def test_a_bad_period_is_refused_with_a_message(preset, start, end, message):
    with pytest.raises(PeriodError) as raised:
        dashboard_period(now=NOW, preset=preset, start=start, end=end)
    assert message in raised.value.user_message


# ---- aggregates -----------------------------------------------------------------------------


def test_volume_counts_invocations_and_failures_per_hour_with_zeros(tenant):
    # given
    hour = datetime(2026, 11, 25, 10, tzinfo=UTC)
    add_event(tenant, at=hour + timedelta(minutes=5))
    add_event(tenant, at=hour + timedelta(minutes=50), failed=True, error_code="timeout")
    add_event(tenant, at=hour - timedelta(days=3))  # outside the period

    # when
    points = telemetry_volume(tenant=tenant, period=period("24h"))

    # then
    by_bucket = {p.bucket: (p.invocations, p.failures) for p in points}
    assert by_bucket[hour] == (2, 1)
    assert by_bucket[hour - timedelta(hours=1)] == (0, 0)
    assert sum(p.invocations for p in points) == 2


def test_volume_by_day_over_thirty_days(tenant):
    # given
    add_event(tenant, at=datetime(2026, 11, 20, 1, tzinfo=UTC))
    add_event(tenant, at=datetime(2026, 11, 20, 23, tzinfo=UTC), failed=True)

    # when
    points = telemetry_volume(tenant=tenant, period=period("30d"))

    # then
    day = {p.bucket: p for p in points}[datetime(2026, 11, 20, tzinfo=UTC)]
    assert (day.invocations, day.failures) == (2, 1)


def test_cost_is_summed_per_skill_most_expensive_first(tenant):
    # given
    add_event(tenant, skill="prd-review", cost="0.500000")
    add_event(tenant, skill="prd-review", cost="0.250000")
    add_event(tenant, skill="incident-postmortem", cost="0.100000")
    add_event(tenant, skill="incident-postmortem", cost=None)

    # when
    rows = telemetry_cost_by_skill(tenant=tenant, period=period())

    # then
    assert [(r.skill, r.invocations, r.cost_usd) for r in rows] == [
        ("prd-review", 2, Decimal("0.75")),
        ("incident-postmortem", 2, Decimal("0.1")),
    ]


def test_latency_percentiles_are_those_of_percentile_cont(tenant):
    # given: latencies 100, 200, …, 1000 ms
    latencies = [100 * n for n in range(1, 11)]
    for latency in latencies:
        add_event(tenant, latency_ms=latency)
    add_event(tenant, latency_ms=None)  # reports no latency: not a sample

    # when
    (row,) = telemetry_latency_by_skill(tenant=tenant, period=period())

    # then
    assert row.samples == 10
    assert row.p50_ms == pytest.approx(550.0)
    assert row.p95_ms == pytest.approx(955.0)
    assert row.p95_ms == pytest.approx(percentile(latencies, 0.95))


def test_the_python_percentile_matches_postgres_on_the_edges():
    assert percentile([], 0.5) is None
    assert percentile([42], 0.95) == 42.0
    assert percentile([1, 2, 3, 4], 0.5) == 2.5


def test_failure_reasons_are_ranked_and_unknown_named(tenant):
    # given
    for _ in range(3):
        add_event(tenant, failed=True, error_code="rate_limited")
    add_event(tenant, failed=True, error_code="timeout")
    add_event(tenant, failed=True, error_code="")
    add_event(tenant, error_code="")

    # when
    reasons = telemetry_failure_reasons(tenant=tenant, period=period())

    # then
    assert [(r.error_code, r.failures) for r in reasons] == [
        ("rate_limited", 3),
        ("unknown", 1),  # ties by code: the empty code sorts first
        ("timeout", 1),
    ]


def test_another_tenants_events_never_count(tenant, other_tenant):
    # given
    add_event(other_tenant, failed=True, error_code="othercorp_only", cost="9.000000")

    # when / then
    chosen = period()
    assert sum(p.invocations for p in telemetry_volume(tenant=tenant, period=chosen)) == 0
    assert telemetry_cost_by_skill(tenant=tenant, period=chosen) == []
    assert telemetry_latency_by_skill(tenant=tenant, period=chosen) == []
    assert telemetry_failure_reasons(tenant=tenant, period=chosen) == []


# ---- CSV ------------------------------------------------------------------------------------


def test_csv_cells_cannot_run_as_formulas(tenant):
    # given: an error code straight from the audit log, crafted as a formula
    add_event(tenant, failed=True, error_code='=HYPERLINK("http://evil")')

    # when
    body = dashboard_csv(tenant=tenant, period=period(), chart="failures")

    # then
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["error_code", "failures"]
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "1"]


@pytest.mark.parametrize(
    ("chart", "header", "row"),
    [
        ("cost", ["skill", "invocations", "cost_usd"], ["incident-postmortem", "1", "0.020000"]),
        (
            "latency",
            ["skill", "samples", "p50_ms", "p95_ms"],
            ["incident-postmortem", "1", "800.0", "800.0"],
        ),
    ],
)
def test_each_skill_chart_has_its_csv(tenant, chart, header, row):
    # given
    add_event(tenant, latency_ms=800, cost="0.020000")

    # when
    rows = list(csv.reader(io.StringIO(dashboard_csv(tenant=tenant, period=period(), chart=chart))))

    # then
    assert rows == [header, row]


def test_the_volume_csv_has_one_row_per_hour(tenant):
    # given
    add_event(tenant, at=datetime(2026, 11, 25, 10, 15, tzinfo=UTC), failed=True)

    # when
    body = dashboard_csv(tenant=tenant, period=period("24h"), chart="volume")

    # then
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["bucket_start_utc", "invocations", "failures"]
    assert len(rows) == 1 + 25
    assert ["2026-11-25T10:00:00+00:00", "1", "1"] in rows


def test_the_sqlite_fallback_gives_the_same_percentiles_as_postgres(tenant):
    # given
    for latency in (120, 340, 560, 780, 2900, 15000):
        add_event(tenant, skill="prd-review", latency_ms=latency)
    add_event(tenant, skill="incident-postmortem", latency_ms=50)

    # when
    in_database = telemetry_latency_by_skill(tenant=tenant, period=period())
    in_python = _latency_in_python(
        TelemetryEvent.objects.filter(tenant=tenant, latency_ms__isnull=False)
    )

    # then
    assert [(r.skill, r.samples, r.p50_ms, r.p95_ms) for r in in_python] == [
        (r.skill, r.samples, pytest.approx(r.p50_ms), pytest.approx(r.p95_ms)) for r in in_database
    ]


def test_a_skill_without_latency_is_left_out_of_the_latency_chart(tenant):
    # given
    add_event(tenant, skill="prd-review", latency_ms=700)
    add_event(tenant, skill="pipeline-hygiene", latency_ms=None)

    # when
    dashboard = telemetry_dashboard(tenant=tenant, period=period())

    # then
    assert [row.skill for row in dashboard.cost] == ["pipeline-hygiene", "prd-review"]
    assert [(row.skill, row.p50_ms) for row in dashboard.latency] == [("prd-review", 700.0)]
