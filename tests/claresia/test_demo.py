"""`make run`'s demo tenant: Dainese, connected to the sandbox, with a staff login."""

import io

import pytest
from django.core.management import call_command

from claresia.models import TenantMembership
from connectors.models import Connector


@pytest.mark.integration
def test_load_demo_connects_dainese_to_the_sandbox_and_prints_the_logins(db, sandbox):
    # when
    out = io.StringIO()
    call_command("load_demo", "--password", "demo-pass-123", stdout=out)
    call_command("load_demo", "--password", "demo-pass-123", stdout=io.StringIO())  # again: safe

    # then
    connector = Connector.objects.get(tenant__slug="dainese")
    assert connector.status == Connector.Status.CONNECTED
    assert TenantMembership.objects.filter(tenant__slug="dainese", user__username="dainese-staff")
    assert "dainese-staff / demo-pass-123" in out.getvalue()
    assert connector.api_key not in out.getvalue()
