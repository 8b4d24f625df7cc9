"""The demo's simulated GPT traffic: Logs Platform files (or the seed's audit events) in the
sandbox, hub records over real HTTP."""

import random
import time

import pytest

from demo.loader import (
    DEMO_ORG_ID,
    DEMO_WORKSPACE_ID,
    demo_load,
    demo_skills_publish,
    demo_test_connection,
)
from demo.traffic import TrafficTarget, demo_traffic_tick, live_tick_counts
from telemetry.hub.models import HubRecord
from telemetry.hub.services import hub_token_issue
from telemetry.ingest.services import telemetry_poll_tenant
from telemetry.models import TelemetryEvent

pytestmark = pytest.mark.integration


@pytest.mark.django_db(transaction=True)
def test_a_tick_posts_hub_records_and_audit_events_like_chatgpt_would(live_server, sandbox):
    # given
    tenant, _ = demo_load(password="traffic-test-pass")
    demo_skills_publish(tenant)
    target = TrafficTarget(
        hub_url=live_server.url,
        hub_token=hub_token_issue(tenant=tenant).plaintext,
        sandbox_url=sandbox.url,
        org_id=DEMO_ORG_ID,
    )

    # when
    tick = demo_traffic_tick(
        tenant=tenant, target=target, now=int(time.time()), count=60, rng=random.Random(7)
    )

    # then
    assert tick.errors == []
    assert tick.invocations + tick.other_gpts == 60
    assert tick.failures > 0 and tick.without_record > 0 and tick.other_gpts > 0
    assert HubRecord.objects.filter(tenant=tenant).count() == tick.hub_records
    assert tick.hub_records == tick.invocations - tick.failures - tick.without_record
    record = HubRecord.objects.filter(tenant=tenant).first()
    assert record.openai_conversation_id.startswith("conv-")
    org = sandbox.state.orgs[DEMO_ORG_ID]
    assert len(org.keys) == 60


@pytest.mark.django_db(transaction=True)
def test_the_demo_tenants_telemetry_flows_through_the_logs_platform(live_server, sandbox):
    # given: the demo tenant (with its workspace id), tested, published and built in ChatGPT
    tenant, _ = demo_load(password="traffic-test-pass")
    demo_test_connection(tenant)
    demo_skills_publish(tenant)
    target = TrafficTarget(
        hub_url=live_server.url,
        hub_token=hub_token_issue(tenant=tenant).plaintext,
        sandbox_url=sandbox.url,
        org_id=DEMO_ORG_ID,
        workspace_id=DEMO_WORKSPACE_ID,
    )
    tick = demo_traffic_tick(
        tenant=tenant, target=target, now=int(time.time()), count=40, rng=random.Random(7)
    )

    # when
    outcome = telemetry_poll_tenant(tenant=tenant)

    # then
    assert tick.errors == []
    assert "dainese Logs Platform: " in str(outcome)
    rows = TelemetryEvent.objects.filter(tenant=tenant)
    assert set(rows.values_list("source", flat=True)) == {"compliance_logs"}
    uses = rows.exclude(event_type="app_call")
    assert tick.plugin_uses > 0 and tick.app_calls > 0
    assert uses.count() == tick.invocations
    assert uses.exclude(plugin_skill_id="").count() == tick.plugin_uses
    assert uses.filter(skill__isnull=True).count() == 0  # every skills_used id learned
    # each failed run that wrote its record is a failure with its reason
    failed = uses.filter(event_type="failed")
    assert failed.count() == tick.failures - tick.app_call_errors > 0
    assert not failed.filter(error_code="").exists()
    assert sandbox.state.orgs.get(DEMO_ORG_ID) is None or not sandbox.state.orgs[DEMO_ORG_ID].keys


def test_live_traffic_runs_at_the_backfills_rate():
    # given the demo's rates: 24 uses an hour, a tick every 20 s
    carry, total = 0.0, 0

    # when an hour of live ticks runs
    for _ in range(180):
        count, carry = live_tick_counts(per_hour=24, interval=20, carry=carry)
        total += count

    # then it made an hour's worth, as the backfill does, not ~1,000
    assert total == 24
