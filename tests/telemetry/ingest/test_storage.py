"""Batched inserts into `fn_telemetry_event`: each (tenant, source, event id) stored once, however
the batch arrives."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from telemetry.ingest import storage
from telemetry.ingest.rows import TelemetryRow
from telemetry.ingest.sources.audit_log.normalizer import normalize_audit_event
from telemetry.models import TelemetryEvent
from tests.telemetry.helpers import event

pytestmark = pytest.mark.integration
NOW = int(datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp())


def rows_for(*event_ids: str) -> list[TelemetryRow]:
    return [
        normalize_audit_event(event(event_id, NOW), tenant_slug="dainese", skills={})
        for event_id in event_ids
    ]


def insert(tenant, rows) -> int:
    with transaction.atomic():
        return storage.telemetry_rows_insert(tenant_id=tenant.pk, rows=rows)


def stored(tenant) -> list[str]:
    return sorted(
        TelemetryEvent.objects.filter(tenant=tenant).values_list("source_event_id", flat=True)
    )


def test_a_batch_stores_only_the_events_not_stored_yet(tenant):
    # given one event already stored
    insert(tenant, rows_for("audit_log-1"))
    # when a batch holding it and a new one is inserted
    count = insert(tenant, rows_for("audit_log-1", "audit_log-2"))
    # then only the new one is stored, and counted
    assert count == 1
    assert stored(tenant) == ["audit_log-1", "audit_log-2"]


def test_an_event_twice_in_one_batch_is_stored_once(tenant):
    # given a batch repeating an event
    rows = rows_for("audit_log-1", "audit_log-2", "audit_log-1")
    # when it is inserted
    count = insert(tenant, rows)
    # then each event is stored once
    assert count == 2
    assert stored(tenant) == ["audit_log-1", "audit_log-2"]


def test_the_raw_payload_is_stored_as_received(tenant):
    # given an audit event
    row = rows_for("audit_log-1")[0]
    # when it is inserted
    insert(tenant, [row])
    # then the stored raw payload is that event
    assert TelemetryEvent.objects.get(tenant=tenant).raw == event("audit_log-1", NOW)
