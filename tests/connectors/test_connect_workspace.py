"""Connect: the ChatGPT workspace id beside the org id and key, and the key's alphabet."""

import io
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from connectors.models import Connector
from connectors.openai.client import Host
from connectors.services import ConnectorUnavailable, connector_client, connector_connect
from tests.factories import COMPLIANCE_KEY

ADD = reverse("admin:connectors_connector_add")
WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


def form(tenant, **overrides):
    data = {
        "tenant": tenant.pk,
        "provider": "openai-chatgpt-enterprise",
        "organization_id": "org-dainese",
        "workspace_id": WORKSPACE,
        "api_key": COMPLIANCE_KEY,
        "publish_mode": "automated",
    }
    return {**data, **overrides}


def test_the_connect_llm_page_says_where_each_value_comes_from(client, staff):
    # given
    client.force_login(staff)

    # when
    page = client.get(ADD).content.decode()

    # then
    assert "Admin Console → Credentials → Admin keys" in page
    assert "Restricted" in page
    assert "compliance logs" in page
    assert "ChatGPT workspace id" in page
    assert "Settings → Organization → General" in page


def test_the_form_stores_the_workspace_id(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    response = client.post(ADD, form(tenant))

    # then
    assert response.status_code == 302
    assert Connector.objects.get(tenant=tenant).workspace_id == uuid.UUID(WORKSPACE)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_key": "sk-compliance-clé"}, "printable ASCII"),
        ({"api_key": "sk-compliance\u00a0key"}, "printable ASCII"),
        ({"workspace_id": "not-a-workspace"}, "is a UUID"),
    ],
)
def test_a_key_with_an_accent_or_a_bad_workspace_id_is_a_form_error_and_stores_nothing(
    client, staff, tenant, overrides, message
):
    # given
    client.force_login(staff)

    # when
    response = client.post(ADD, form(tenant, **overrides))

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Connector.objects.filter(tenant=tenant).exists()


def test_connect_openai_takes_the_workspace_id(tenant, tmp_path):
    # given
    key_file = tmp_path / "key"
    key_file.write_text(COMPLIANCE_KEY)
    out = io.StringIO()

    # when
    call_command(
        "connect_openai",
        "--tenant=dainese",
        "--org-id=org-dainese",
        f"--workspace-id={WORKSPACE}",
        f"--api-key-file={key_file}",
        stdout=out,
    )

    # then
    assert Connector.objects.get(tenant=tenant).workspace_id == uuid.UUID(WORKSPACE)
    assert WORKSPACE in out.getvalue()


def test_connect_openai_refuses_a_workspace_id_that_is_not_a_uuid(tenant, tmp_path):
    # given
    key_file = tmp_path / "key"
    key_file.write_text(COMPLIANCE_KEY)

    # when / then
    with pytest.raises(CommandError, match="UUID"):
        call_command(
            "connect_openai",
            "--tenant=dainese",
            "--org-id=org-dainese",
            "--workspace-id=ws-1",
            f"--api-key-file={key_file}",
        )
    assert not Connector.objects.filter(tenant=tenant).exists()


def test_connecting_again_without_a_workspace_id_keeps_it_and_blank_removes_it(tenant):
    # given
    connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=COMPLIANCE_KEY, workspace_id=WORKSPACE
    )

    # when
    kept = connector_connect(tenant=tenant, organization_id="org-dainese", api_key=None)
    kept_id = kept.workspace_id
    removed = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=None, workspace_id=""
    )

    # then
    assert kept_id == uuid.UUID(WORKSPACE)
    assert removed.workspace_id is None


def test_the_service_refuses_a_key_with_an_accented_letter(tenant):
    # when / then
    with pytest.raises(ValidationError) as caught:
        connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-é-key")
    assert "api_key" in caught.value.message_dict
    assert not Connector.objects.filter(tenant=tenant).exists()


def test_a_non_ascii_key_stored_before_the_check_gives_no_client_instead_of_a_crash(connector):
    # given: a key saved before keys were checked at save
    connector.set_api_key("sk-compliance-clé")
    connector.save()

    # when / then
    for host in Host:
        with pytest.raises(ConnectorUnavailable, match="printable ASCII"):
            connector_client(tenant=connector.tenant, host=host)


@pytest.mark.integration
def test_the_admin_page_shows_the_checklist_after_test_connection(client, staff, tenant, sandbox):
    # given
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-key"
    )
    client.force_login(staff)

    # when
    client.post(reverse("admin:connectors_connector_test_connection", args=[connector.pk]))
    page = client.get(reverse("admin:connectors_connector_change", args=[connector.pk]))

    # then
    body = page.content.decode()
    assert 'id="connection-checks"' in body
    assert "Admin key is not Compliance scope" in body
    assert "Disables" in body
    assert "Compliance Logs Platform, organization org-dainese" in body
    assert "sk-admin-regular-key" not in body
