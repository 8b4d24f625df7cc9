"""The one way other apps reach a tenant's connector (connectors.services): a client or
ConnectorUnavailable, for either host and either purpose; the publish mode and the switch to
manual export."""

import pytest
from cryptography.fernet import Fernet

from connectors.openai import client as openai_client
from connectors.openai import modelled
from connectors.openai.client import Host
from connectors.selectors import PublishMode, connector_publish_mode, tenants_with_connector
from connectors.services import (
    ConnectorUnavailable,
    Purpose,
    connector_client,
    connector_switch_to_manual_export,
)

UNREADABLE = "paste the Compliance API key again"


def test_a_tenant_without_a_connector_gets_no_client_and_is_told_to_connect(tenant):
    # given a tenant that was never connected

    # when a client is asked for
    with pytest.raises(ConnectorUnavailable) as raised:
        connector_client(tenant=tenant, host=Host.PLATFORM)

    # then the one error says what to do
    assert raised.value.user_message == (
        "tenant dainese has no ChatGPT Enterprise connector: connect it first"
    )


def test_a_key_written_under_a_removed_encryption_key_gets_no_client(connector, settings):
    # given the key the connector was encrypted under is gone
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # when a client is asked for
    with pytest.raises(ConnectorUnavailable) as raised:
        connector_client(tenant=connector.tenant, host=Host.PLATFORM)

    # then the one error asks for the key again
    assert UNREADABLE in raised.value.user_message


def test_a_connected_tenant_gets_a_client_that_reads_its_audit_log(sandbox, connector):
    # given a connected tenant

    # when a client is asked for and used
    with connector_client(tenant=connector.tenant, host=Host.PLATFORM) as client:
        page = modelled.audit_logs_page(client, limit=1)

    # then OpenAI answered the tenant's key
    assert page["object"] == "list"


def test_switching_to_manual_export_changes_the_publish_mode(connector):
    # given a tenant publishing through the admin API
    assert connector_publish_mode(tenant=connector.tenant) == PublishMode.AUTOMATED

    # when it is switched to manual export
    connector_switch_to_manual_export(tenant=connector.tenant)

    # then its skills reach ChatGPT by export from now on
    assert connector_publish_mode(tenant=connector.tenant) == PublishMode.MANUAL_EXPORT


def test_a_tenant_without_a_connector_has_no_publish_mode(tenant):
    # given a tenant that was never connected

    # when its publish mode is asked for
    with pytest.raises(ConnectorUnavailable, match="no ChatGPT Enterprise connector"):
        connector_publish_mode(tenant=tenant)

    # then nothing is assumed


def test_only_tenants_with_a_connector_are_listed(connector, other_tenant):
    # given one connected tenant and one that is not

    # when the tenants with a connector are listed
    tenants = list(tenants_with_connector())

    # then only the connected one is
    assert tenants == [connector.tenant]


@pytest.mark.parametrize("host", list(Host))
def test_a_page_gets_one_attempt_and_a_short_timeout_a_worker_openais_policy(connector, host):
    # given a connected tenant

    # when a page and a worker each ask for a client of either host
    with (
        connector_client(tenant=connector.tenant, host=host, purpose=Purpose.PAGE) as page,
        connector_client(tenant=connector.tenant, host=host) as worker,
    ):
        # then the page's never retries nor waits long; the worker's is OpenAI's policy
        assert (page.host, worker.host) == (host, host)
        assert page.retry.max_attempts == 1
        assert page._http.timeout.read == 10.0
        assert worker.retry == openai_client.DEFAULT_RETRY  # the tests' quick twin of it
        assert worker.retry.max_attempts > 1
        assert worker._http.timeout.read == 30.0


def test_the_platform_client_names_the_organization_and_the_admin_client_does_not(connector):
    # given a connected tenant

    # when a client of each host is built from the connector already loaded
    with (
        connector_client(connector=connector, host=Host.PLATFORM) as platform,
        connector_client(connector=connector, host=Host.CHATGPT_ADMIN) as admin,
    ):
        # then only the modelled Platform surface takes the organization header
        assert platform._http.headers["OpenAI-Organization"] == connector.organization_id
        assert "OpenAI-Organization" not in admin._http.headers
        assert platform._http.headers["Authorization"] == admin._http.headers["Authorization"]
