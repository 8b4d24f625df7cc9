"""The telemetry dashboard on a million `fn_telemetry_event` rows.

Data: 1,000,000 rows for one tenant spread over the last 30 days (three skills, ~8 % failures,
five error codes, lognormal-ish latencies, a ~300-byte raw audit event per row as the poller
stores it) and 200,000 rows of a second tenant over the same days, inserted with one
`INSERT … SELECT … FROM generate_series` each, then `VACUUM ANALYZE` (what autovacuum does to a
table that size).
Each dashboard selector of telemetry/dashboard.py is timed for the last 24 h and the last 30 d
(median of ROUNDS) against a baseline measured in the same run: a plain
`SELECT count(*)` over the same tenant's rows of the same period, the least any of them must do.
The poll-health lag (`max(occurred_at)`) and the View record page's lookup by conversation are
timed too. Then each query's EXPLAIN (ANALYZE, BUFFERS) plan is printed, showing the index it uses.
"""

import statistics
import time
from functools import partial

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claresia.models import Tenant
from telemetry.dashboard import (
    dashboard_period,
    telemetry_cost_by_skill,
    telemetry_dashboard,
    telemetry_failure_reasons,
    telemetry_latency_by_skill,
    telemetry_volume,
)
from telemetry.hub.models import HubRecord
from telemetry.hub.selectors import telemetry_events_for_record
from telemetry.selectors import poll_health

ROWS, OTHER_ROWS = 1_000_000, 200_000
DAYS = 30
ROUNDS = 5

INSERT = """
INSERT INTO fn_telemetry_event (
    tenant_id, skill_id, skill_ref, skill_unknown, source, source_event_id, event_type,
    occurred_at, actor_user_id, actor_email, gpt_id, gpt_name, conversation_id, model,
    input_tokens, output_tokens, cost_usd, latency_ms, error_code, error_message, raw, ingested_at
)
SELECT %(tenant)s, NULL, s.skill, false, 'compliance_api', %(prefix)s || n, e.kind,
       %(now)s::timestamptz - (n * %(spacing)s) * interval '1 second',
       'user-' || (n %% 500), '', 'g-' || s.skill, %(gpt)s || s.skill, 'conv-' || %(prefix)s || n,
       'gpt-4o', 800 + n %% 1200, 200 + n %% 900, ((n %% 4000) / 100000.0)::numeric(14, 6),
       (s.base * (0.5 + ((n::bigint * 7919) %% 1000) / 400.0))::int,
       CASE WHEN e.kind = 'failed' THEN (ARRAY['rate_limited', 'timeout', 'tool_error',
            'context_length_exceeded', 'content_policy'])[1 + n %% 5] ELSE '' END,
       CASE WHEN e.kind = 'failed' THEN 'The GPT run failed.' ELSE '' END,
       jsonb_build_object('id', %(prefix)s || n, 'type', 'gpt.' || e.kind,
           'effective_at', extract(epoch FROM %(now)s::timestamptz)::bigint - n,
           'actor', jsonb_build_object('user', jsonb_build_object('id', 'user-' || (n %% 500),
               'email', 'user' || (n %% 500) || '@example.com')),
           'gpt.' || e.kind, jsonb_build_object('gpt_name', %(gpt)s || s.skill,
               'conversation_id', 'conv-' || %(prefix)s || n, 'model', 'gpt-4o')),
       %(now)s
FROM generate_series(1, %(rows)s) AS n
CROSS JOIN LATERAL (
    SELECT (ARRAY['incident-postmortem', 'prd-review', 'pipeline-hygiene'])[1 + n %% 3] AS skill,
           (ARRAY[4000, 2500, 1500])[1 + n %% 3] AS base
) AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN (n * 31) %% 100 < 8 THEN 'failed' ELSE 'invoked' END AS kind
) AS e
"""


def _load(tenant: Tenant, prefix: str, rows: int, now) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            {
                "tenant": tenant.pk,
                "prefix": prefix,
                "now": now,
                "rows": rows,
                "spacing": DAYS * 86_400 / rows,
                "gpt": f"claresia-{tenant.slug}-",
            },
        )
    return time.perf_counter() - started


def _baseline(tenant: Tenant, period) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM fn_telemetry_event"
            " WHERE tenant_id = %s AND occurred_at >= %s AND occurred_at < %s",
            [tenant.pk, period.start, period.end],
        )
        cursor.fetchone()


def _median_ms(call) -> float:
    call()  # warm: the first run pays for reading pages into the cache
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _sql_of(call) -> list[str]:
    """The statements `call` runs (a selector may wrap its query in BEGIN / SET LOCAL)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith(("SELECT", "SET"))
    ]


def _explain(statements: list[str]) -> list[str]:
    """EXPLAIN ANALYZE each SELECT, after the SET LOCALs it ran under (same transaction)."""
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            if sql.startswith("SET"):
                cursor.execute(sql)
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            plans.append("\n".join("      " + row[0] for row in cursor.fetchall()))
    return plans


def main() -> None:
    now = timezone.now()
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    other = Tenant.objects.create(slug="other", name="Other")
    seconds = _load(tenant, "a", ROWS, now) + _load(other, "b", OTHER_ROWS, now)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE fn_telemetry_event")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('fn_telemetry_event'))")
        size = cursor.fetchone()[0]
    print(
        f"   loaded {ROWS + OTHER_ROWS:,} rows in {seconds:.1f}s, VACUUM ANALYZE "
        f"{time.perf_counter() - started:.1f}s; table with indexes: {size}"
    )
    record = HubRecord(tenant=tenant, openai_conversation_id="conv-a123456")

    # The latency selector as the dashboard calls it: handed the skills the cost query found.
    skills = ["incident-postmortem", "pipeline-hygiene", "prd-review"]
    selectors = {
        "volume": telemetry_volume,
        "cost per skill": telemetry_cost_by_skill,
        "p50/p95 latency": partial(telemetry_latency_by_skill, skills=skills),
        "failure reasons": telemetry_failure_reasons,
    }
    plans = {}
    for preset in ("24h", "30d"):
        period = dashboard_period(now=now, preset=preset)
        baseline = _median_ms(lambda period=period: _baseline(tenant, period))
        rows = telemetry_volume(tenant=tenant, period=period)
        count = sum(point.invocations for point in rows)
        print(
            f"   -- last {preset}: {count:,} rows of the tenant; baseline count(*) "
            f"{baseline:8.1f} ms"
        )
        for name, selector in selectors.items():
            call = lambda selector=selector, period=period: selector(tenant=tenant, period=period)  # noqa: E731
            took = _median_ms(call)
            print(f"      {name:<18} {took:8.1f} ms   ratio {took / baseline:5.2f}")
            plans[f"{name}, last {preset}"] = _sql_of(call)
        whole = _median_ms(lambda period=period: telemetry_dashboard(tenant=tenant, period=period))
        print(f"      {'whole dashboard':<18} {whole:8.1f} ms   ratio {whole / baseline:5.2f}")
    lag = _median_ms(lambda: poll_health(tenant=tenant, now=now))
    lookup = _median_ms(lambda: list(telemetry_events_for_record(record=record)))
    print(f"   overview poll health (max occurred_at + cursor): {lag:6.2f} ms")
    print(f"   View record page events by conversation:         {lookup:6.2f} ms")
    plans["poll health lag"] = _sql_of(lambda: poll_health(tenant=tenant, now=now))[1:]
    plans["record page events"] = _sql_of(lambda: list(telemetry_events_for_record(record=record)))
    print(f"   (median of {ROUNDS} runs after one warm-up; ratio = query / baseline)")
    print("   EXPLAIN (ANALYZE, BUFFERS):")
    for name, statements in plans.items():
        for plan in _explain(statements):
            print(f"   [{name}]")
            print(plan)
