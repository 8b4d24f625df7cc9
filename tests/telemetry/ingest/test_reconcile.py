"""Reconciliation: invocations without a hub record become governance events; estimated hub
records are corrected from their telemetry event. Both idempotent."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.ingest.reconcile import telemetry_reconcile
from telemetry.models import PollCursor, TelemetryEvent

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    """Hub records stamp `created_at` from the clock; reconciliation is handed NOW: stop the
    clock there so that both agree on any day."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


def invocation(
    tenant,
    skill,
    conversation,
    *,
    minutes_ago,
    kind="invoked",
    source="compliance_api",
    event_id=None,
    **fields,
):
    return TelemetryEvent.objects.create(
        tenant=tenant,
        skill=skill,
        skill_ref=skill.skill_id,
        source=source,
        source_event_id=event_id or f"audit_log-{conversation}-{kind}-{source}",
        event_type=kind,
        occurred_at=NOW - timedelta(minutes=minutes_ago),
        gpt_name=f"claresia-{tenant.slug}-{skill.skill_id}",
        conversation_id=conversation,
        raw={},
        **fields,
    )


def hub_record(tenant, skill, conversation, **fields):
    values = {"content_hash": conversation, "output": "## Done", "model": "gpt-4o"} | fields
    return HubRecord.objects.create(
        tenant=tenant, skill=skill, openai_conversation_id=conversation, **values
    )


def missing(tenant):
    return GovernanceEvent.objects.filter(
        tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING
    )


def test_an_invocation_without_a_hub_record_after_the_grace_period_is_a_governance_event(
    tenant, skill
):
    # given
    invocation(tenant, skill, "conv-1", minutes_ago=30, actor_email="ana@dainese.example")

    # when
    outcome = telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    event = missing(tenant).get()
    assert outcome.missing_records == 1
    assert event.skill == skill
    assert event.openai_conversation_id == "conv-1"
    assert event.message.startswith("Hub record missing: Incident Postmortem ran in ChatGPT")
    assert event.details["actor_email"] == "ana@dainese.example"


def test_reconciling_twice_writes_one_event_per_skill_and_conversation(tenant, skill):
    # given: the same invocation reported by both sources, and twice in one conversation
    invocation(tenant, skill, "conv-1", minutes_ago=40)
    invocation(tenant, skill, "conv-1", minutes_ago=35, source="audit_export")
    invocation(tenant, skill, "conv-1", minutes_ago=30, event_id="audit_log-second-turn")

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)
    telemetry_reconcile(tenant=tenant, now=NOW + timedelta(minutes=5))

    # then
    assert missing(tenant).count() == 1


def test_an_invocation_with_its_hub_record_is_not_flagged(tenant, skill):
    # given
    invocation(tenant, skill, "conv-1", minutes_ago=30)
    hub_record(tenant, skill, "conv-1")

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    assert not missing(tenant).exists()


def test_an_invocation_within_the_grace_period_is_not_flagged_yet(tenant, skill, settings):
    # given
    settings.TELEMETRY_RECONCILE_GRACE = 900
    invocation(tenant, skill, "conv-1", minutes_ago=5)

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    assert not missing(tenant).exists()


def test_a_failed_invocation_is_not_a_missing_record(tenant, skill):
    # given
    invocation(tenant, skill, "conv-1", minutes_ago=30, kind="failed")

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    assert not missing(tenant).exists()


def test_invocations_newer_than_the_poll_cursor_wait_for_the_poll(tenant, skill):
    # given: the poller has read events only up to an hour ago
    PollCursor.objects.create(tenant=tenant, cursor_at=NOW - timedelta(hours=1))
    invocation(tenant, skill, "conv-late", minutes_ago=30)

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    assert not missing(tenant).exists()


def test_the_checked_range_advances_and_late_events_within_the_overlap_are_still_checked(
    tenant, skill, settings
):
    # given
    settings.TELEMETRY_OVERLAP = 600
    PollCursor.objects.create(tenant=tenant, cursor_at=NOW)
    telemetry_reconcile(tenant=tenant, now=NOW)
    cursor = PollCursor.objects.get(tenant=tenant)
    assert cursor.reconciled_until == NOW - timedelta(seconds=settings.TELEMETRY_RECONCILE_GRACE)

    # when: an event just behind the range arrives late
    invocation(tenant, skill, "conv-late", minutes_ago=20)
    PollCursor.objects.filter(tenant=tenant).update(cursor_at=NOW + timedelta(minutes=5))
    telemetry_reconcile(tenant=tenant, now=NOW + timedelta(minutes=5))

    # then
    assert missing(tenant).filter(openai_conversation_id="conv-late").exists()


def test_an_estimated_hub_record_is_corrected_from_its_telemetry_event(tenant, skill):
    # given
    record = hub_record(
        tenant,
        skill,
        "conv-1",
        cost_estimated=True,
        latency_estimated=True,
        input_tokens=10,
        output_tokens=10,
        latency_ms=999,
    )
    invocation(
        tenant,
        skill,
        "conv-1",
        minutes_ago=1,
        input_tokens=1_000_000,
        output_tokens=0,
        model="gpt-4o",
        latency_ms=2300,
        actor_email="ana@dainese.example",
    )

    # when
    first = telemetry_reconcile(tenant=tenant, now=NOW)
    second = telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    record.refresh_from_db()
    assert (first.corrected_records, second.corrected_records) == (1, 0)
    assert record.cost_estimated is False and record.latency_estimated is False
    assert record.cost_usd == pytest.approx(2.5)
    assert record.latency_ms == 2300
    assert record.user_email == "ana@dainese.example"
    assert record.corrected_at is not None


def test_another_tenants_telemetry_never_touches_a_record(tenant, skill, other_tenant, other_skill):
    # given
    record = hub_record(tenant, skill, "conv-1", cost_estimated=True, latency_ms=999)
    invocation(other_tenant, other_skill, "conv-1", minutes_ago=30, latency_ms=1)

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)
    telemetry_reconcile(tenant=other_tenant, now=NOW)

    # then
    record.refresh_from_db()
    assert record.latency_ms == 999
    assert not missing(tenant).exists()
    assert missing(other_tenant).count() == 1


@pytest.mark.integration
def test_a_poll_prices_with_the_tenants_table_and_reconciles(
    sandbox, connector, tenant, skill, settings
):
    # given: two invocations 30 minutes ago, one of which posted its hub record
    import time

    from telemetry.hub.models import ModelPrice
    from telemetry.ingest.services import telemetry_poll_tenant

    settings.TELEMETRY_RECONCILE_GRACE = 60
    ModelPrice.objects.create(
        tenant=tenant, model="gpt-4o", input_usd_per_million=1, output_usd_per_million=0
    )
    at = int(time.time()) - 1800
    for conversation in ("conv-recorded", "conv-missing"):
        sandbox.state.add_events(
            "org-dainese",
            [
                {
                    "id": f"audit_log-{conversation}",
                    "type": "gpt.invoked",
                    "effective_at": at,
                    "gpt.invoked": {
                        "gpt_name": "claresia-dainese-incident-postmortem",
                        "conversation_id": conversation,
                        "model": "gpt-4o",
                        "usage": {"input_tokens": 2_000_000, "output_tokens": 5},
                    },
                }
            ],
        )
    hub_record(tenant, skill, "conv-recorded")

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then
    costs = TelemetryEvent.objects.filter(tenant=tenant).values_list("cost_usd", flat=True)
    assert [float(cost) for cost in costs] == [2.0, 2.0]
    assert list(missing(tenant).values_list("openai_conversation_id", flat=True)) == [
        "conv-missing"
    ]


def test_a_logs_platform_invocation_takes_its_cost_and_latency_from_its_hub_record(tenant, skill):
    # given: a Logs Platform message (no usage, no latency) and the hub record its GPT wrote
    message = invocation(
        tenant, skill, "conv-logs", minutes_ago=30, source="compliance_logs", event_id="evt-1"
    )
    hub_record(tenant, skill, "conv-logs", cost_usd="0.042000", latency_ms=2300)

    # when: reconciled twice
    telemetry_reconcile(tenant=tenant, now=NOW)
    telemetry_reconcile(tenant=tenant, now=NOW)

    # then: the invocation carries the record's cost and latency, for the dashboard
    message.refresh_from_db()
    assert (str(message.cost_usd), message.latency_ms) == ("0.042000", 2300)


def test_a_logs_platform_invocation_without_its_hub_record_keeps_no_cost(tenant, skill):
    # given: another conversation's record only
    message = invocation(
        tenant, skill, "conv-a", minutes_ago=30, source="compliance_logs", event_id="evt-2"
    )
    hub_record(tenant, skill, "conv-b", cost_usd="0.042000", latency_ms=2300)

    # when
    telemetry_reconcile(tenant=tenant, now=NOW)

    # then
    message.refresh_from_db()
    assert (message.cost_usd, message.latency_ms) == (None, None)
