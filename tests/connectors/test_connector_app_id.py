"""The ChatGPT app id (`asdk_app_…`) of the Claresia app, optional on the connector: validated,
and carried into the tenant's plugin as `.app.json` (chatgpt-admin-api.md, "Plugins, the
successor")."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from connectors.models import Connector
from connectors.selectors import connector_app_id
from connectors.services import connector_connect
from skills.services.bundles import tenant_context
from tests.factories import COMPLIANCE_KEY

ADD = reverse("admin:connectors_connector_add")


def form(tenant, **overrides):
    data = {
        "tenant": tenant.pk,
        "provider": "openai-chatgpt-enterprise",
        "organization_id": "org-dainese",
        "workspace_id": "",
        "api_key": COMPLIANCE_KEY,
        "publish_mode": "automated",
        "app_id": "asdk_app_68b0c1d2e3",
    }
    return {**data, **overrides}


def test_the_form_stores_the_app_id_and_the_plugin_context_carries_it(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    response = client.post(ADD, form(tenant))

    # then
    assert response.status_code == 302
    assert connector_app_id(tenant=tenant) == "asdk_app_68b0c1d2e3"
    assert tenant_context(tenant).app_id == "asdk_app_68b0c1d2e3"


@pytest.mark.parametrize("app_id", ["app_68b0c1d2e3", "asdk_app_", "asdk_app_x y", "asdk_app_é"])
def test_an_app_id_without_the_asdk_app_prefix_is_a_form_error(client, staff, tenant, app_id):
    # given
    client.force_login(staff)

    # when
    response = client.post(ADD, form(tenant, app_id=app_id))

    # then
    assert response.status_code == 200
    assert "A ChatGPT app id looks like asdk_app_" in response.text
    assert not Connector.objects.filter(tenant=tenant).exists()


def test_the_service_refuses_a_bad_app_id_and_keeps_the_stored_one(connector, tenant):
    # given
    connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=None, app_id="asdk_app_good1"
    )

    # when
    with pytest.raises(ValidationError) as raised:
        connector_connect(
            tenant=tenant, organization_id="org-dainese", api_key=None, app_id="not-an-app"
        )

    # then
    assert "app_id" in raised.value.message_dict
    assert connector_app_id(tenant=tenant) == "asdk_app_good1"


def test_no_connector_means_no_app_id(tenant):
    assert connector_app_id(tenant=tenant) == ""
    assert tenant_context(tenant).app_id == ""
