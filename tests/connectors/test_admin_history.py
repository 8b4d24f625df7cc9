"""Every custom view and action of the connectors admin writes who did what to which connector
in its admin history."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE
from django.urls import reverse
from django.utils.html import escape

from connectors.models import Connector
from tests.factories import COMPLIANCE_KEY, admin_history, admin_history_url

CHANGELIST = reverse("admin:connectors_connector_changelist")


def connect_page(client, request):
    tenant = request.getfixturevalue("tenant")
    client.post(
        reverse("admin:connectors_connector_add"),
        {
            "tenant": tenant.pk,
            "provider": "openai-chatgpt-enterprise",
            "organization_id": "org-dainese",
            "api_key": COMPLIANCE_KEY,
            "publish_mode": "automated",
        },
    )
    connector = Connector.objects.get(tenant=tenant)
    return connector, ADDITION, "Connected LLM: organization org-dainese, key stored encrypted."


def test_connection_button(client, request):
    request.getfixturevalue("sandbox")
    connector = request.getfixturevalue("connector")
    client.post(reverse("admin:connectors_connector_test_connection", args=[connector.pk]))
    return connector, CHANGE, "Tested the connection: connected to org-dainese."


def test_connection_action_that_fails(client, request):
    connector = request.getfixturevalue("connector")  # OPENAI_API_BASE answers nothing
    client.post(
        CHANGELIST, {"action": "test_connection_selected", "_selected_action": [connector.pk]}
    )
    connector.refresh_from_db()
    assert connector.last_error
    return connector, CHANGE, f"Tested the connection: failed: {connector.last_error}"


def reencrypt_action(client, request):
    connector = request.getfixturevalue("connector")
    client.post(CHANGELIST, {"action": "reencrypt_selected", "_selected_action": [connector.pk]})
    return connector, CHANGE, "Re-encrypted the key under the newest key."


CASES = [connect_page, test_connection_button, test_connection_action_that_fails, reencrypt_action]
# Named so that pytest does not collect the cases as tests.
for case in CASES:
    case.__test__ = False


@pytest.mark.parametrize("use", CASES, ids=[case.__name__ for case in CASES])
def test_each_custom_view_and_action_is_in_the_connectors_history(client, staff, request, use):
    # given staff of the tenant, logged in
    client.force_login(staff)

    # when they use the view or action on a connector
    connector, flag, message = use(client, request)

    # then the connector's history says who did what, and its History page shows it
    assert admin_history(connector) == [(staff.username, flag, message)]
    assert escape(message) in client.get(admin_history_url(connector)).content.decode()
