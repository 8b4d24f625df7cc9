"""Telemetry rows and hub records for the Command Center pages and the dashboard, at NOW."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from telemetry.models import HubRecord, TelemetryEvent

# Where these tests put their events; conftest's `frozen_now` stops the clock here.
NOW = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
_ids = itertools.count()


def add_event(
    tenant,
    *,
    skill="incident-postmortem",
    at=NOW - timedelta(hours=1),
    failed=False,
    cost="0.010000",
    latency_ms=1000,
    error_code="",
    conversation_id="",
) -> TelemetryEvent:
    event_id = next(_ids)
    return TelemetryEvent.objects.create(
        tenant=tenant,
        skill_ref=skill,
        source=TelemetryEvent.Source.COMPLIANCE_API,
        source_event_id=f"evt-{event_id}",
        event_type=TelemetryEvent.EventType.FAILED if failed else TelemetryEvent.EventType.INVOKED,
        occurred_at=at,
        gpt_name=f"claresia-{tenant.slug}-{skill}",
        conversation_id=conversation_id,
        model="gpt-4o",
        cost_usd=None if cost is None else Decimal(cost),
        latency_ms=latency_ms,
        error_code=error_code,
        raw={},
    )


def add_record(tenant, skill, **fields) -> HubRecord:
    fields.setdefault("content_hash", f"hash-{next(_ids)}")
    return HubRecord.objects.create(tenant=tenant, skill=skill, output="Done.", **fields)
