"""The Compliance API poller end to end, next to a raw idempotent insert of the same rows.

End to end: the OpenAI sandbox (its own process, so it does not share our GIL) serves a seeded
backlog of audit events (70 % `claresia-*`); `poll_telemetry --once` drains it over HTTP:
pages fetched, JSON decoded, events normalized, rows inserted, progress committed.
Baseline: the same rows, already normalized, inserted with psycopg alone the fastest
idempotent way we know (binary COPY into a temporary table, then `INSERT … SELECT … ON CONFLICT DO
NOTHING`), one transaction per FLUSH_ROWS rows as the poller commits. The ratio is events/s end
to end over rows/s of the baseline.
Memory: the process's peak RSS after a 20,000-event backlog and after a 100,000-event one;
flat means the backlog is streamed page by page, not loaded whole.
"""

import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from itertools import batched
from pathlib import Path

import psycopg
from django.core.management import call_command
from django.db import connection, transaction

from claresia.models import Tenant
from connectors.sandbox.state import generate_events
from connectors.services import connector_connect
from skills.models import Skill
from telemetry.hub.models import GovernanceEvent
from telemetry.ingest import storage
from telemetry.ingest.reconcile import (
    HORIZON,
    _flag_missing_records_one_by_one,
    telemetry_reconcile,
)
from telemetry.ingest.rows import COLUMNS, TelemetryRow
from telemetry.ingest.sources.audit_log.normalizer import normalize_audit_event
from telemetry.ingest.sources.audit_log.poller import FLUSH_ROWS
from telemetry.models import TelemetryEvent

REPO = Path(__file__).resolve().parent.parent
SMALL, LARGE = 20_000, 100_000
GOVERNANCE = 50_000
ROUNDS = 3
KEY = "sk-compliance-bench-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox we started
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return json.load(response)


def _start_sandbox() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "openai_sandbox", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    process.stdout.readline()  # "OpenAI sandbox on …": it listens
    return process, f"http://127.0.0.1:{port}"


def _generate(count: int, tenant: str, seed: int, now: int) -> dict:
    return {"count": count, "tenant": tenant, "seed": seed, "start": now - 80_000, "end": now - 60}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _drain(sandbox_url: str, slug: str, count: int, seed: int, now: int) -> float:
    """Seed `count` events for a new tenant, drain them with poll_telemetry; return events/s."""
    tenant = Tenant.objects.create(slug=slug, name=slug)
    org = f"org-{slug}"
    connector_connect(tenant=tenant, organization_id=org, api_key=KEY)
    _post(
        f"{sandbox_url}/_sandbox/events",
        {"org": org, "generate": _generate(count, slug, seed, now)},
    )
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        # The whole backlog in one pass: the default page budget would leave most for later.
        call_command(
            "poll_telemetry", "--once", "--tenant", slug, "--max-pages", "5000", stdout=quiet
        )
    return count / (time.perf_counter() - started)


def _baseline_rows(slug: str, seed: int, now: int) -> list[TelemetryRow]:
    events = generate_events(**_generate(LARGE, slug, seed, now))
    rows = (normalize_audit_event(event, tenant_slug=slug, skills={}) for event in events)
    return [row for row in rows if isinstance(row, TelemetryRow)]


def _baseline(slug: str, rows: list[TelemetryRow]) -> float:
    """Insert the rows for a new tenant with psycopg alone; return rows/s."""
    tenant_id = Tenant.objects.create(slug=slug, name=slug).pk
    columns = ", ".join(COLUMNS)
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    ) as conn:
        conn.execute(
            f"CREATE TEMP TABLE load ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {storage._LOAD_COLUMNS} FROM fn_telemetry_event WITH NO DATA"
        )
        conn.commit()
        started = time.perf_counter()
        for transaction_rows in batched(rows, FLUSH_ROWS):
            with conn.transaction(), conn.cursor() as cursor:
                with cursor.copy(f"COPY load ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(storage._LOAD_TYPES)
                    for row in transaction_rows:
                        copy.write_row((tenant_id, *row))
                cursor.execute(
                    f"INSERT INTO fn_telemetry_event ({columns}) "  # noqa: S608
                    f"SELECT {storage._INSERT_COLUMNS} FROM load "
                    "ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING"
                )
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def _expected(slug: str, count: int, seed: int, now: int) -> int:
    return sum(
        1
        for e in generate_events(**_generate(count, slug, seed, now))
        if e[e["type"]]["gpt_name"].startswith(f"claresia-{slug}-")
    )


def _governance_rows(tenant: Tenant, skills: list[Skill], now: datetime) -> list[TelemetryRow]:
    """GOVERNANCE invocations, each in a conversation of its own, none with a hub record."""
    return [
        TelemetryRow(
            skill_id=skills[n % len(skills)].pk,
            skill_ref=skills[n % len(skills)].skill_id,
            skill_unknown=False,
            source="compliance_api",
            source_event_id=f"governance-{n}",
            event_type="invoked",
            occurred_at=now - timedelta(hours=2, seconds=n % 3600),
            actor_user_id=f"user-{n % 50}",
            actor_email=f"user{n % 50}@example.com",
            gpt_id=f"g-{n % len(skills)}",
            gpt_name=f"claresia-{tenant.slug}-{skills[n % len(skills)].skill_id}",
            conversation_id=f"conv-{n}",
            model="gpt-4o",
            input_tokens=None,
            output_tokens=None,
            cost_usd=None,
            latency_ms=None,
            error_code="",
            error_message="",
            raw="{}",
            dropped_fields="",
        )
        for n in range(GOVERNANCE)
    ]


def _copy_floor(tenant: Tenant, rows: list[TelemetryRow], now: datetime) -> float:
    """Seconds to COPY one governance event per row into the governance events' own table (its
    indexes, unique constraint and foreign keys, checked at once rather than at commit), then
    rolled back: what writing that many events costs PostgreSQL at the least."""
    table = GovernanceEvent._meta.db_table
    columns = (
        "tenant_id, skill_id, kind, message, openai_conversation_id, dedupe_key, details, "
        "occurred_at, created_at"
    )
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (
                        tenant.pk,
                        row.skill_id,
                        "copy_floor",
                        f"Hub record missing: {row.skill_ref} ran in ChatGPT but emit_hub_record "
                        "was not called (refused or disabled by the user)",
                        row.conversation_id,
                        f"{row.skill_ref}:{row.conversation_id}",
                        json.dumps(
                            {
                                "actor_email": row.actor_email,
                                "gpt_id": row.gpt_id,
                                "source": row.source,
                                "source_event_id": row.source_event_id,
                            }
                        ),
                        row.occurred_at,
                        now,
                    )
                )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _governance_tenant(slug: str, now: datetime) -> tuple[Tenant, list[TelemetryRow]]:
    tenant = Tenant.objects.create(slug=slug, name=slug)
    skills = [
        Skill.objects.create(
            tenant=tenant, skill_id=f"skill-{n}", name=f"Skill {n}", version="1", ir={}
        )
        for n in range(5)
    ]
    rows = _governance_rows(tenant, skills, now)
    with transaction.atomic():
        storage.telemetry_rows_insert(tenant_id=tenant.pk, rows=rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have, after a poll this size
    return tenant, rows


def _governance_row_by_row() -> float:
    """Seconds the row-by-row twin (SQLite's path, PostgreSQL's before) takes for the same."""
    now = datetime.now(UTC)
    tenant, _ = _governance_tenant("governance-twin", now)
    started = time.perf_counter()
    with transaction.atomic():
        flagged = _flag_missing_records_one_by_one(tenant=tenant, start=now - HORIZON, until=now)
    elapsed = time.perf_counter() - started
    assert flagged == GOVERNANCE, flagged
    return elapsed


def _governance() -> tuple[float, float, float]:
    """(seconds to flag GOVERNANCE invocations without a hub record, the COPY floor before and
    after it), the flagging through the reconciliation service an audit-export import calls."""
    now = datetime.now(UTC)
    tenant, rows = _governance_tenant("governance", now)
    floor_before = _copy_floor(tenant, rows, now)
    started = time.perf_counter()
    outcome = telemetry_reconcile(tenant=tenant, now=now, since=now - HORIZON)
    flagging = time.perf_counter() - started
    floor_after = _copy_floor(tenant, rows, now)
    flagged = GovernanceEvent.objects.filter(tenant=tenant).count()
    assert outcome.missing_records == flagged == GOVERNANCE, (outcome, flagged)
    again = telemetry_reconcile(tenant=tenant, now=now, since=now - HORIZON)
    assert again.missing_records == 0, again  # exactly once
    return flagging, floor_before, floor_after


def main() -> None:
    sandbox, url = _start_sandbox()
    os.environ["OPENAI_API_BASE"] = f"{url}/v1"
    from django.conf import settings

    settings.OPENAI_API_BASE = f"{url}/v1"
    settings.TELEMETRY_INITIAL_LOOKBACK = 86_400
    now = int(time.time())
    try:
        small_rate = _drain(url, "small", SMALL, 2, now)
        small_rss = _peak_rss_mb()
        rates = [_drain(url, "bench-0", LARGE, 1, now)]
        large_rss = _peak_rss_mb()
        # Built after the memory figures: the baseline's rows are held whole in memory.
        rows = _baseline_rows("bench-0", 1, now)
        baselines = [_baseline("baseline-0", rows)]
        # Rounds alternate so that a busy moment on a shared machine hits both sides alike.
        for round_ in range(1, ROUNDS):
            rates.append(_drain(url, f"bench-{round_}", LARGE, 1, now))
            baselines.append(_baseline(f"baseline-{round_}", rows))
        for slug, count, seed in (
            ("small", SMALL, 2),
            *((f"bench-{n}", LARGE, 1) for n in range(ROUNDS)),
        ):
            stored = TelemetryEvent.objects.filter(tenant__slug=slug).count()
            assert stored == _expected(slug, count, seed, now), (slug, stored)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    rate, baseline = max(rates), max(baselines)
    print(f"   end to end, {SMALL:,} events:  {small_rate:8.0f} events/s")
    print(f"   end to end, {LARGE:,} events: {rate:8.0f} events/s   (target ≥ 25,000)")
    print(f"   baseline, raw psycopg insert:  {baseline:8.0f} rows/s    ({len(rows):,} rows)")
    print(f"   (best of {ROUNDS} alternating rounds each)")
    print(f"   ratio end to end / baseline:   {rate / baseline:8.2f}        (target ≥ 0.5)")
    # A shared machine: the figures mean little without how busy it was.
    print(f"   load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"   peak RSS after {SMALL:,} events: {small_rss:6.1f} MB")
    print(f"   peak RSS after {LARGE:,} events: {large_rss:6.1f} MB   (flat = streamed)")
    flagging, floor_before, floor_after = _governance()
    floor = min(floor_before, floor_after)
    print(
        f"   governance: {GOVERNANCE:,} invocations without a hub record flagged in "
        f"{flagging:.2f} s ({flagging / GOVERNANCE * 1e6:.0f} µs each)"
    )
    print(
        f"   COPY floor, {GOVERNANCE:,} rows into the governance events' table: "
        f"{floor_before:.2f} s before, {floor_after:.2f} s after"
    )
    print(f"   ratio flagging / COPY floor:   {flagging / floor:8.2f}        (goal ≤ 2)")
    twin = _governance_row_by_row()
    print(
        f"   the row-by-row twin (before): {twin:.2f} s ({twin / GOVERNANCE * 1e6:.0f} µs each, "
        f"{twin / floor:.2f} of the floor)"
    )
    print(f"   load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
