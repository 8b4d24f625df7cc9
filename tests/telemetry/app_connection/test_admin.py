"""The MCP clients' admin: each tenant's staff see their own connections; revoking cuts the
next call."""

import pytest

from telemetry.app_connection.models import McpClient
from telemetry.hub.models import HubRecord
from tests.factories import make_user
from tests.telemetry.app_connection.helpers import call, mcp_token, rpc

pytestmark = pytest.mark.django_db
URL = "/admin/telemetry/mcpclient/"
BODY = {"skill_id": "incident-postmortem", "output": "Done."}


def test_staff_see_only_their_tenants_clients(client, staff, tenant, other_tenant):
    mcp_token(tenant)
    mcp_token(other_tenant)
    client.force_login(staff)

    response = client.get(URL)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_revoke_action_cuts_the_next_call(client, staff, tenant, skill):
    token = mcp_token(tenant)
    assert rpc(client, token, call("emit_hub_record", BODY)).status_code == 200
    client.force_login(staff)

    client.post(
        URL,
        {"action": "revoke_tokens", "_selected_action": [McpClient.objects.get().pk]},
    )

    assert (
        rpc(client, token, call("emit_hub_record", {**BODY, "output": "Again."})).status_code == 401
    )
    assert HubRecord.objects.count() == 1


def test_staff_cannot_revoke_another_tenants_tokens(client, tenant, other_tenant, skill):
    staff_of_dainese = make_user("dainese-admin", tenants=[tenant])
    token = mcp_token(other_tenant)
    client.force_login(staff_of_dainese)

    client.post(URL, {"action": "revoke_tokens", "_selected_action": [McpClient.objects.get().pk]})

    assert rpc(client, token, call("emit_hub_record", BODY)).status_code == 200
