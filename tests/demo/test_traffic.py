"""The demo's simulated GPT traffic: audit events in the sandbox, hub records over real HTTP."""

import random
import time

import pytest

from demo.loader import DEMO_ORG_ID, demo_load, demo_skills_publish
from demo.traffic import TrafficTarget, demo_traffic_tick
from telemetry.hub.models import HubRecord
from telemetry.hub.services import hub_token_issue

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
