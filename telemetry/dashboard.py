"""The telemetry dashboard's numbers: selectors over `fn_telemetry_event`, one tenant, one period.

Everything is aggregated in the database (`TruncHour`/`TruncDay`, `Count`, `Sum`, and
`percentile_cont` on PostgreSQL), so a page costs a few index range scans whatever the row count;
`bench/bench_dashboard.py` times them on a million rows. SQLite (the demo's fallback database)
has no percentile aggregate: there latency percentiles are computed in Python over the period's
latencies, capped at SQLITE_PERCENTILE_ROWS rows per skill (the newest), which a demo never reaches.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour

from claresia.models import Tenant
from skills.targets.custom_gpt.export import csv_safe
from telemetry.models import TelemetryEvent
from telemetry.selectors import RecordsTotal, hub_records_filtered, hub_records_total

PRESETS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_PRESET = "7d"
CUSTOM_PRESET = "custom"  # a period given as from/to dates
# Longer periods are bucketed by day; up to two days an hour is the useful resolution.
HOURLY_UP_TO = timedelta(days=2)
MAX_PERIOD = timedelta(days=366)
TOP_FAILURE_REASONS = 10
SQLITE_PERCENTILE_ROWS = 100_000
PERCENTILE_WORK_MEM = "32MB"


class PeriodError(ValueError):
    """A period the dashboard cannot show; `user_message` says why."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    preset: str  # a key of PRESETS, or CUSTOM_PRESET

    @property
    def is_custom(self) -> bool:
        return self.preset == CUSTOM_PRESET

    @property
    def bucket(self) -> str:
        return "hour" if self.end - self.start <= HOURLY_UP_TO else "day"

    def buckets(self) -> list[datetime]:
        """Every bucket start in the period, so that quiet hours show as zeros, not gaps."""
        step = timedelta(hours=1) if self.bucket == "hour" else timedelta(days=1)
        current = _floor(self.start, self.bucket)
        out = []
        while current < self.end:
            out.append(current)
            current += step
        return out


def _floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


# "to" covers its whole day, so the period ends the day after it: the calendar's last day
# (9999-12-31) has no day after it.
LAST_DAY = date.max - timedelta(days=1)


def _parse_day(value: str, field: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"“{field}” must be a date like 2026-11-25 (UTC).") from None
    if day > LAST_DAY:
        raise PeriodError(f"“{field}” must be on or before {LAST_DAY.isoformat()}.")
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def dashboard_period(*, now: datetime, preset: str = "", start: str = "", end: str = "") -> Period:
    """The period a request asks for: a preset, or from/to dates (UTC, `to` inclusive)."""
    if start or end:
        if not (start and end):
            raise PeriodError("Give both “from” and “to”, or choose a preset period.")
        since = _parse_day(start, "from")
        until = _parse_day(end, "to") + timedelta(days=1)  # "to" covers that whole day
        if until <= since:
            raise PeriodError("“to” must be after “from”.")
        if until - since > MAX_PERIOD:
            raise PeriodError("Choose a period of at most 366 days.")
        return Period(start=since, end=until, preset=CUSTOM_PRESET)
    preset = preset or DEFAULT_PRESET
    if preset not in PRESETS:
        raise PeriodError("Choose one of the periods: last 24 hours, 7 days or 30 days.")
    return Period(start=now - PRESETS[preset], end=now, preset=preset)


# An MCP app call is the trace of a hub record, not an invocation (compliance_logs.py); a plugin
# skill use whose id is not mapped yet is an invocation of no known skill (plugin_skills.py).
NOT_INVOCATIONS = (TelemetryEvent.EventType.APP_CALL, TelemetryEvent.EventType.UNMAPPED)


def _events(tenant: Tenant, period: Period) -> QuerySet[TelemetryEvent]:
    # Ordering cleared: the model's default "-occurred_at" would otherwise join every GROUP BY.
    return (
        TelemetryEvent.objects.filter(
            tenant=tenant, occurred_at__gte=period.start, occurred_at__lt=period.end
        )
        .exclude(event_type__in=NOT_INVOCATIONS)
        .order_by()
    )


@dataclass(frozen=True)
class OtherActivity:
    """What the period holds besides invocations: calls to the tenant's Claresia app (and how
    many failed: a call whose result was an error carries its error code), and plugin skill uses
    whose `skills_used` id is not yet mapped to a skill (invocations once it is)."""

    app_calls: int = 0
    app_call_failures: int = 0
    unmapped_uses: int = 0


def telemetry_other_activity(*, tenant: Tenant, period: Period) -> OtherActivity:
    row = (
        TelemetryEvent.objects.filter(
            tenant=tenant,
            occurred_at__gte=period.start,
            occurred_at__lt=period.end,
            event_type__in=NOT_INVOCATIONS,
        )
        .order_by()
        .aggregate(
            app_calls=Count("event_type", filter=Q(event_type=TelemetryEvent.EventType.APP_CALL)),
            app_call_failures=Count(
                "event_type",
                filter=Q(event_type=TelemetryEvent.EventType.APP_CALL) & ~Q(error_code=""),
            ),
            unmapped_uses=Count(
                "event_type", filter=Q(event_type=TelemetryEvent.EventType.UNMAPPED)
            ),
        )
    )
    return OtherActivity(**row)


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(f) WITHIN GROUP (ORDER BY expr)`: continuous percentile."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within [0, 1]")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


@dataclass(frozen=True)
class VolumePoint:
    bucket: datetime
    invocations: int
    failures: int


def telemetry_volume(*, tenant: Tenant, period: Period) -> list[VolumePoint]:
    """Invocations (every audit event is one) and failures per hour or day of the period."""
    trunc = TruncHour if period.bucket == "hour" else TruncDay
    rows = (
        _events(tenant, period)
        .annotate(bucket=trunc("occurred_at", tzinfo=UTC))
        .values("bucket")
        .annotate(
            invocations=Count("*"),
            # A column of the covering index (never null), not "id": keeps the scan index-only.
            failures=Count("event_type", filter=Q(event_type=TelemetryEvent.EventType.FAILED)),
        )
    )
    counted = {row["bucket"]: row for row in rows}
    return [
        VolumePoint(
            bucket=bucket,
            invocations=counted.get(bucket, {}).get("invocations", 0),
            failures=counted.get(bucket, {}).get("failures", 0),
        )
        for bucket in period.buckets()
    ]


@dataclass(frozen=True)
class SkillCost:
    skill: str
    invocations: int
    cost_usd: Decimal


def telemetry_cost_by_skill(*, tenant: Tenant, period: Period) -> list[SkillCost]:
    """Cost per skill (the skill id in the GPT name), most expensive first."""
    rows = (
        _events(tenant, period)
        .values("skill_ref")
        .annotate(invocations=Count("*"), cost=Sum("cost_usd"))
        .order_by("-cost", "skill_ref")
    )
    return [
        SkillCost(
            skill=row["skill_ref"],
            invocations=row["invocations"],
            cost_usd=row["cost"] or Decimal(0),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SkillLatency:
    skill: str
    samples: int
    p50_ms: float | None
    p95_ms: float | None


def telemetry_latency_by_skill(
    *, tenant: Tenant, period: Period, skills: list[str] | None = None
) -> list[SkillLatency]:
    """p50 / p95 latency per skill, over the events that report a latency.

    One aggregate per skill with FILTER, not GROUP BY skill_ref: grouping an ordered-set
    aggregate sorts every row of the period by the skill's text first (2.4 s on a million rows,
    bench_dashboard); filtered aggregates each sort only their skill's integers. `skills`, when
    the caller already has the period's skills (the cost query), saves the query that finds them.
    """
    events = _events(tenant, period).filter(latency_ms__isnull=False)
    if connection.vendor != "postgresql":
        return _latency_in_python(events)
    if skills is None:
        skills = events.values_list("skill_ref", flat=True).distinct()
    skills = sorted(skills)
    if not skills:
        return []
    aggregates = {}
    for n, skill in enumerate(skills):
        only = Q(skill_ref=skill)
        aggregates[f"samples_{n}"] = Count("latency_ms", filter=only)
        aggregates[f"p50_{n}"] = PercentileCont("latency_ms", 0.5, filter=only)
        aggregates[f"p95_{n}"] = PercentileCont("latency_ms", 0.95, filter=only)
    with transaction.atomic(), connection.cursor() as cursor:
        # Each skill's sort stays in memory instead of spilling to disk at the default 4 MB;
        # together they hold at most the period's latencies (~40 MB for a million rows).
        cursor.execute(f"SET LOCAL work_mem = '{PERCENTILE_WORK_MEM}'")
        row = events.aggregate(**aggregates)
    return [
        SkillLatency(skill, row[f"samples_{n}"], row[f"p50_{n}"], row[f"p95_{n}"])
        for n, skill in enumerate(skills)
        if row[f"samples_{n}"]
    ]


def _latency_in_python(events: QuerySet[TelemetryEvent]) -> list[SkillLatency]:
    out = []
    skills = events.values_list("skill_ref", flat=True).distinct().order_by("skill_ref")
    for skill in skills:
        values = sorted(
            events.filter(skill_ref=skill)
            .order_by("-occurred_at")
            .values_list("latency_ms", flat=True)[:SQLITE_PERCENTILE_ROWS]
        )
        out.append(
            SkillLatency(skill, len(values), percentile(values, 0.5), percentile(values, 0.95))
        )
    return out


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """`percentile_cont`'s definition: linear interpolation between the closest ranks."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return float(sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight)


@dataclass(frozen=True)
class FailureReason:
    error_code: str
    failures: int


def telemetry_failure_reasons(
    *, tenant: Tenant, period: Period, limit: int = TOP_FAILURE_REASONS
) -> list[FailureReason]:
    """The most frequent error codes of failed invocations (an empty code reads "unknown")."""
    rows = (
        _events(tenant, period)
        .filter(event_type=TelemetryEvent.EventType.FAILED)
        .values("error_code")
        .annotate(failures=Count("*"))
        .order_by("-failures", "error_code")[:limit]
    )
    return [FailureReason(row["error_code"] or "unknown", row["failures"]) for row in rows]


@dataclass(frozen=True)
class Dashboard:
    period: Period
    volume: list[VolumePoint]
    cost: list[SkillCost]
    latency: list[SkillLatency]
    failures: list[FailureReason]
    other: OtherActivity = OtherActivity()
    # Two totals, never one blended: `total_cost` sums the invocations read from OpenAI (what
    # ran); `records` sums the hub records posted in the same period (what the Records page
    # lists). They differ honestly — a run that posted no record is an invocation only, a record
    # whose invocation is not read yet is a record only, its cost an estimate — so the page
    # names each total by its source instead of showing two numbers for "the cost".
    records: RecordsTotal = field(default_factory=RecordsTotal)

    @property
    def total_invocations(self) -> int:
        return sum(point.invocations for point in self.volume)

    @property
    def total_failures(self) -> int:
        return sum(point.failures for point in self.volume)

    @property
    def total_cost(self) -> Decimal:
        return sum((row.cost_usd for row in self.cost), Decimal(0))

    def chart_data(self) -> dict:
        """What static/command_center/dashboard.js draws (JSON-safe: strings and numbers)."""
        label = "%Y-%m-%d %H:00" if self.period.bucket == "hour" else "%Y-%m-%d"
        return {
            "bucket": self.period.bucket,
            "volume": {
                "labels": [p.bucket.strftime(label) for p in self.volume],
                "invocations": [p.invocations for p in self.volume],
                "failures": [p.failures for p in self.volume],
            },
            "cost": {
                "labels": [row.skill for row in self.cost],
                "usd": [float(row.cost_usd) for row in self.cost],
            },
            "latency": {
                "labels": [row.skill for row in self.latency],
                "p50": [row.p50_ms for row in self.latency],
                "p95": [row.p95_ms for row in self.latency],
            },
            "failures": {
                "labels": [row.error_code for row in self.failures],
                "counts": [row.failures for row in self.failures],
            },
        }


def telemetry_dashboard(*, tenant: Tenant, period: Period) -> Dashboard:
    cost = telemetry_cost_by_skill(tenant=tenant, period=period)
    return Dashboard(
        period=period,
        volume=telemetry_volume(tenant=tenant, period=period),
        cost=cost,
        latency=telemetry_latency_by_skill(
            tenant=tenant, period=period, skills=[row.skill for row in cost]
        ),
        failures=telemetry_failure_reasons(tenant=tenant, period=period),
        other=telemetry_other_activity(tenant=tenant, period=period),
        records=hub_records_total(
            hub_records_filtered(tenant=tenant, since=period.start, until=period.end)
        ),
    )


CSV_CHARTS = ("volume", "cost", "latency", "failures")


def dashboard_csv(*, tenant: Tenant, period: Period, chart: str) -> str:
    """One chart's numbers as CSV; every cell neutralized against spreadsheet formulas."""
    if chart == "volume":
        header = ["bucket_start_utc", "invocations", "failures"]
        rows = [
            [p.bucket.isoformat(), p.invocations, p.failures]
            for p in telemetry_volume(tenant=tenant, period=period)
        ]
    elif chart == "cost":
        header = ["skill", "invocations", "cost_usd"]
        rows = [
            [r.skill, r.invocations, f"{r.cost_usd:.6f}"]
            for r in telemetry_cost_by_skill(tenant=tenant, period=period)
        ]
    elif chart == "latency":
        header = ["skill", "samples", "p50_ms", "p95_ms"]
        rows = [
            [r.skill, r.samples, _ms(r.p50_ms), _ms(r.p95_ms)]
            for r in telemetry_latency_by_skill(tenant=tenant, period=period)
        ]
    elif chart == "failures":
        header = ["error_code", "failures"]
        rows = [
            [r.error_code, r.failures]
            for r in telemetry_failure_reasons(tenant=tenant, period=period)
        ]
    else:
        raise ValueError(f"unknown chart {chart!r}")
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    return out.getvalue()


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
