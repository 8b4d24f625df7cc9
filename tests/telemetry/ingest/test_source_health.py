"""Poll health per telemetry source: each judged on its own poll and its own events, the source
the tenant's telemetry comes from first, and a source its last connection check switched off
said to be not read."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.connection_checks import Check
from telemetry.models import LogsCursor, PollCursor
from telemetry.selectors import SWITCHED_OFF_ADVICE, PollHealth, telemetry_sources_health

State = PollHealth.State
WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


def checks(connector, **outcomes):
    connector.connection_checks = [
        {
            "check": check,
            "label": check,
            "outcome": outcome,
            "detail": "",
            "disables": "",
            "principal": WORKSPACE if check == Check.LOGS_WORKSPACE else "org-dainese",
        }
        for check, outcome in outcomes.items()
    ]
    connector.save()


@pytest.fixture
def workspace_tenant(tenant, connector):
    """A real workspace: the seed's audit log refuses its key, the Logs Platform answers; the
    seed's poll was healthy long ago, the Logs Platform not read for ten minutes."""
    checks(connector, audit_log="failed", logs_workspace="passed")
    now = timezone.now()
    PollCursor.objects.create(tenant=tenant, last_success_at=now - timedelta(seconds=30))
    LogsCursor.objects.create(
        tenant=tenant,
        event_type="CONVERSATION_MESSAGE",
        last_success_at=now - timedelta(minutes=10),
    )
    return tenant


def test_the_logs_platform_in_use_leads_and_is_judged_on_its_own_poll(workspace_tenant):
    # when
    sources = telemetry_sources_health(tenant=workspace_tenant, now=timezone.now(), interval=60)

    # then
    lead = sources[0]
    assert lead.name == "Logs Platform · CONVERSATION_MESSAGE" and lead.in_use
    assert lead.health.state == State.STALE


def test_the_seed_audit_log_switched_off_by_its_check_is_said_not_read(workspace_tenant):
    # when
    sources = telemetry_sources_health(tenant=workspace_tenant, now=timezone.now(), interval=60)

    # then
    (seed,) = [s for s in sources if s.name == "Seed audit log"]
    assert seed.health.state == State.SWITCHED_OFF
    assert seed.health.advice == SWITCHED_OFF_ADVICE == "not read: the last connection check failed"


def test_a_seed_only_tenant_leads_with_the_seed_audit_log(tenant, connector):
    # given
    checks(connector, audit_log="passed", logs_organization="failed")
    PollCursor.objects.create(tenant=tenant, last_success_at=timezone.now())

    # when
    sources = telemetry_sources_health(tenant=tenant, now=timezone.now(), interval=60)

    # then
    assert sources[0].name == "Seed audit log" and sources[0].health.state == State.HEALTHY
    assert {s.health.state for s in sources[1:]} == {State.SWITCHED_OFF}


def test_the_overview_leads_with_the_source_in_use(client, staff, workspace_tenant):
    # given
    client.force_login(staff)

    # when
    page = client.get(reverse("command_center:overview")).content.decode()

    # then
    assert "Source: <strong>Logs Platform · CONVERSATION_MESSAGE</strong>" in page
    assert SWITCHED_OFF_ADVICE in page
    assert 'class="pill poll-stale">Stale' in page
