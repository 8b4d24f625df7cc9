"""Command Center → Distribution → Plugin explains connecting the Claresia app: its /mcp URL,
who approves on Claresia's side and what they see, the plugin's required app after the import,
and where the tenant's connections are seen and revoked."""

import pytest

from connectors.services import connector_connect
from telemetry.app_connection.services import mcp_client_approve, mcp_client_register
from tests.factories import COMPLIANCE_KEY, make_user

pytestmark = pytest.mark.django_db
PAGE = "/command-center/distribution/plugin/"


def test_the_steps_name_the_apps_mcp_url_the_approval_and_the_required_app(
    client, settings, tenant
):
    # given: a tenant admin
    settings.CLARESIA_HUB_BASE_URL = "https://hub.claresia.example"
    client.force_login(make_user("ana", tenants=[tenant]))

    # when
    page = client.get(PAGE, {"tenant": tenant.slug}).text

    # then
    assert "<code>https://hub.claresia.example/mcp</code>" in page
    assert "A tenant admin of Dainese approves it in Claresia</strong> (you are one)" in page
    assert "write hub records and read back their footer" in page
    assert "enable its required app" in page and "<code>claresia-dainese</code>" in page
    assert "No connection approved for Dainese yet." in page


def test_a_viewer_is_told_who_approves_without_being_one(client, tenant):
    # given
    client.force_login(make_user("vic", tenants=[tenant], role="viewer"))

    # when
    page = client.get(PAGE, {"tenant": tenant.slug}).text

    # then
    assert "A tenant admin of Dainese approves it in Claresia</strong>:" in page
    assert "(you are one)" not in page


def test_the_tenants_connections_are_listed_with_the_admins_list_linked(
    client, tenant, other_tenant
):
    # given: one connection approved for the tenant, one for another tenant
    approver = make_user("ana", tenants=[tenant])
    mine = mcp_client_register(
        client_name="ChatGPT", redirect_uris=["https://chatgpt.com/connector/oauth/abc"]
    )
    mcp_client_approve(client_id=mine.client_id, tenant=tenant, user=approver)
    theirs = mcp_client_register(client_name="Other", redirect_uris=["https://other.example/cb"])
    mcp_client_approve(client_id=theirs.client_id, tenant=other_tenant, user=None)
    client.force_login(approver)

    # when
    page = client.get(PAGE, {"tenant": tenant.slug}).text

    # then
    assert "ChatGPT · chatgpt.com" in page and "by ana" in page and ">never<" in page
    assert "other.example" not in page
    assert f'href="/admin/telemetry/mcpclient/?tenant__id__exact={tenant.pk}"' in page
    assert client.get(f"/admin/telemetry/mcpclient/?tenant__id__exact={tenant.pk}").status_code == (
        200
    )


def test_the_app_id_is_shown_when_set(client, tenant):
    # given
    connector_connect(
        tenant=tenant,
        organization_id="org-dainese",
        api_key=COMPLIANCE_KEY,
        app_id="asdk_app_68b0c1d2e3",
    )
    client.force_login(make_user("ana", tenants=[tenant]))

    # when
    page = client.get(PAGE, {"tenant": tenant.slug}).text

    # then
    assert "Set: <code>asdk_app_68b0c1d2e3</code>." in page
