"""`poll_telemetry` and the Celery fan-out call the same poll service."""

import io
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from connectors.services import connector_connect
from telemetry.tasks import telemetry_poll_tenants_task
from tests.factories import COMPLIANCE_KEY
from tests.telemetry.helpers import seed, stored_ids

pytestmark = pytest.mark.integration


def test_poll_telemetry_once_drains_the_backlog(sandbox, connector, tenant):
    # given
    expected = seed(sandbox, 450)
    out = io.StringIO()

    # when
    call_command("poll_telemetry", "--once", "--tenant", "dainese", stdout=out)

    # then
    assert Counter(stored_ids(tenant)) == Counter(expected)
    assert out.getvalue().startswith(f"dainese: {len(expected)} stored")


def test_poll_telemetry_once_exits_non_zero_with_the_reason(sandbox, tenant):
    # given: an org without the Compliance API
    connector_connect(tenant=tenant, organization_id="org-team-dainese", api_key=COMPLIANCE_KEY)

    # when / then
    with pytest.raises(CommandError, match=r"^dainese: Telemetry missing: Compliance API not"):
        call_command("poll_telemetry", "--once", stdout=io.StringIO())


def test_poll_telemetry_refuses_a_tenant_without_a_connector(tenant):
    with pytest.raises(CommandError, match="tenant dainese has no OpenAI connector"):
        call_command("poll_telemetry", "--once", "--tenant", "dainese")


def test_poll_telemetry_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="no tenant with slug 'nobody'"):
        call_command("poll_telemetry", "--once", "--tenant", "nobody")


def test_beat_fans_out_one_poll_per_connected_tenant(sandbox, connector, tenant, other_tenant):
    # given: two tenants, one of them with a connector
    expected = seed(sandbox, 150)

    # when: the beat task runs (in-process: no broker in the tests)
    fanned_out = telemetry_poll_tenants_task.delay().get()

    # then
    assert fanned_out == 1
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_beat_runs_the_fan_out_every_poll_interval():
    entry = django_settings.CELERY_BEAT_SCHEDULE["telemetry-poll-tenants"]
    assert (entry["task"], entry["schedule"]) == ("telemetry.poll_tenants", 60.0)
