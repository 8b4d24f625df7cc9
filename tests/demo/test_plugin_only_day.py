"""A plugin-only tenant's day in the sandbox, end to end: no GPT at all, its skills used in
ChatGPT as plugin skills (`skills_used`, calls to the Claresia app, hub records of the same
conversations). The Command Center shows invocations per skill, failures, latency, app calls and
governance events, exactly once across repeated polls, and no message content, title or
location reaches any table or log."""

import logging
import random
import time

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from claresia.models import TenantMembership
from demo.loader import DEMO_ORG_ID, DEMO_WORKSPACE_ID, demo_load, demo_test_connection
from demo.traffic import TrafficTarget, demo_traffic_tick
from skills.models import Publication
from telemetry.dashboard import dashboard_period, telemetry_dashboard
from telemetry.hub.models import GovernanceEvent
from telemetry.hub.services import hub_token_issue
from telemetry.ingest.services import telemetry_poll_tenant
from telemetry.models import TelemetryEvent
from tests.factories import make_user

pytestmark = pytest.mark.integration

# What the simulated lines carry that is the customer's: never kept.
USER_DATA = ["(simulated message)", "(simulated title)", "Vicenza", "45.55", "userLocation"]


def every_stored_value() -> str:
    """Every row of every table, as text."""
    return "\n".join(str(list(model._default_manager.values())) for model in apps.get_models())


@pytest.fixture
def day(live_server, sandbox):
    """The demo tenant with no GPT published: an hour of its plugin skills' use, an hour ago
    (past reconciliation's grace)."""
    tenant, _ = demo_load(password="plugin-day-pass")
    demo_test_connection(tenant)
    assert not Publication.objects.filter(skill__tenant=tenant).exists()
    target = TrafficTarget(
        hub_url=live_server.url,
        hub_token=hub_token_issue(tenant=tenant).plaintext,
        sandbox_url=sandbox.url,
        org_id=DEMO_ORG_ID,
        workspace_id=DEMO_WORKSPACE_ID,
    )
    tick = demo_traffic_tick(
        tenant=tenant,
        target=target,
        now=int(time.time()) - 3600,
        count=90,
        rng=random.Random(5),
        spread_seconds=3000,
    )
    assert tick.errors == [] and tick.invocations == tick.plugin_uses > 0
    return tenant, tick


@pytest.mark.django_db(transaction=True)
def test_a_plugin_only_day_shows_in_the_command_center_exactly_once_without_user_data(
    day, client, caplog
):
    # given
    tenant, tick = day
    caplog.set_level(logging.DEBUG)

    # when: polled, then polled again (nothing new, the same files re-listed)
    telemetry_poll_tenant(tenant=tenant)
    stored = TelemetryEvent.objects.filter(tenant=tenant).count()
    governance = GovernanceEvent.objects.filter(tenant=tenant).count()
    telemetry_poll_tenant(tenant=tenant)

    # then: exactly once
    assert TelemetryEvent.objects.filter(tenant=tenant).count() == stored
    assert GovernanceEvent.objects.filter(tenant=tenant).count() == governance

    # then: invocations per skill, failures with reasons, latency, app calls
    board = telemetry_dashboard(
        tenant=tenant, period=dashboard_period(now=timezone.now(), preset="24h")
    )
    assert board.total_invocations == tick.plugin_uses
    assert {row.skill for row in board.cost} <= {
        "incident-postmortem",
        "pipeline-hygiene",
        "prd-review",
    }
    assert len(board.cost) >= 2
    assert board.total_failures == tick.failures - tick.app_call_errors > 0
    assert all(reason.error_code != "unknown" for reason in board.failures)
    assert board.latency and all(row.p50_ms for row in board.latency)
    assert board.other.app_calls >= tick.app_calls > 0
    assert board.other.unmapped_uses == 0

    # then: a use with no hub record is a governance event that blames no one
    missing = GovernanceEvent.objects.filter(
        tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING
    )
    assert missing.count() == tick.without_record + tick.app_call_errors > 0
    assert all("no record was written" in event.message for event in missing)

    # then: the Command Center shows them
    staff = make_user("plugin-day-staff", tenants=[tenant], role=TenantMembership.Role.ADMIN)
    client.force_login(staff)
    telemetry = client.get(reverse("command_center:telemetry"), {"period": "24h"})
    page = telemetry.content.decode()
    assert f"<b>{tick.plugin_uses}</b><small>invocations</small>" in page
    assert f"<b>{board.total_failures}</b><small>failures</small>" in page
    assert "Claresia app calls" in page
    overview = client.get(reverse("command_center:overview")).content.decode()
    assert "Hub record missing" in overview and "no record was written" in overview
    mappings = client.get(reverse("command_center:plugin_skills")).content.decode()
    assert "Learned from hub records" in mappings

    # then: no message content, title or location in any table or log
    stored_text = every_stored_value()
    logged = caplog.text
    for marker in USER_DATA:
        assert marker not in stored_text, marker
        assert marker not in logged, marker
