"""The admin's Connect LLM form, Test connection button and action, and key masking."""

import pytest
from cryptography.fernet import Fernet
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from connectors.models import Connector
from tests.factories import COMPLIANCE_KEY

ADD = reverse("admin:connectors_connector_add")


def change_url(connector):
    return reverse("admin:connectors_connector_change", args=[connector.pk])


def test_connect_llm_says_where_to_mint_the_key_in_the_customers_words(client, staff):
    # given
    client.force_login(staff)

    # when
    page = client.get(ADD).content.decode()

    # then: one place to mint the key, no internal words
    assert "Connect LLM" in page
    assert "OpenAI ChatGPT Enterprise" in page
    assert page.count("Admin Console → Credentials → Admin keys") == 1
    assert "claresia-{tenant_slug}" in page
    assert "Settings → Organization → General" in page
    for internal in ("seed", "Step 6", "/v1/", "Compliance scope"):
        assert internal not in page, internal


def test_the_add_form_starts_on_building_gpts_by_hand_and_offers_no_stored_key(client, staff):
    # given
    client.force_login(staff)

    # when
    page = client.get(ADD).content.decode()

    # then
    assert "Leave blank to keep the stored key" not in page
    assert '<option value="manual_export" selected>' in page


def test_a_refusal_of_another_field_keeps_the_pasted_key(client, staff, tenant):
    # given
    client.force_login(staff)

    # when: the organization id is wrong, the key right
    response = client.post(
        ADD,
        {
            "tenant": tenant.pk,
            "provider": "openai-chatgpt-enterprise",
            "organization_id": "acme",
            "api_key": COMPLIANCE_KEY,
            "publish_mode": "manual_export",
        },
    )

    # then the form comes back with the key still in its field
    assert response.status_code == 200
    assert f'value="{COMPLIANCE_KEY}"' in response.content.decode()
    assert not Connector.objects.exists()


def test_the_change_form_says_blank_keeps_the_stored_key(client, staff, connector):
    client.force_login(staff)
    page = client.get(change_url(connector)).content.decode()
    assert f"Leave blank to keep the stored key ({connector.api_key_masked})." in page
    assert "Replace the key" in page


def test_connect_llm_stores_the_key_encrypted_and_shows_it_masked(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    response = client.post(
        ADD,
        {
            "tenant": tenant.pk,
            "provider": "openai-chatgpt-enterprise",
            "organization_id": "org-dainese",
            "api_key": COMPLIANCE_KEY,
            "publish_mode": "automated",
        },
    )

    # then
    connector = Connector.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert connector.api_key == COMPLIANCE_KEY
    page = client.get(change_url(connector)).content.decode()
    assert "…7f3a" in page
    assert COMPLIANCE_KEY not in page


@pytest.mark.parametrize(
    ("org_id", "api_key", "field", "message"),
    [
        ("acme", COMPLIANCE_KEY, "organization_id", "looks like org-… with letters, digits"),
        (
            "org-dainése-démo-✓",
            COMPLIANCE_KEY,
            "organization_id",
            "looks like org-… with letters, digits, _ and - only",
        ),
        ("org-dainese", "", "api_key", "it is empty"),
        ("org-dainese", "sk-two words", "api_key", "no spaces"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(
    client, staff, tenant, org_id, api_key, field, message
):
    # given
    client.force_login(staff)

    # when
    response = client.post(
        ADD,
        {
            "tenant": tenant.pk,
            "provider": "openai-chatgpt-enterprise",
            "organization_id": org_id,
            "api_key": api_key,
            "publish_mode": "automated",
        },
    )

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert field in response.context["adminform"].form.errors
    assert not Connector.objects.exists()


def test_leaving_the_key_blank_on_change_keeps_it(client, staff, connector):
    # given
    client.force_login(staff)

    # when
    client.post(
        change_url(connector),
        {
            "provider": "openai-chatgpt-enterprise",
            "organization_id": "org-dainese-2",
            "api_key": "",
            "publish_mode": "manual_export",
        },
    )

    # then
    connector.refresh_from_db()
    assert connector.organization_id == "org-dainese-2"
    assert connector.publish_mode == "manual_export"
    assert connector.api_key == COMPLIANCE_KEY


def test_the_admin_history_never_holds_the_key(client, staff, connector):
    # given
    client.force_login(staff)

    # when
    client.post(
        change_url(connector),
        {
            "provider": "openai-chatgpt-enterprise",
            "organization_id": "org-dainese",
            "api_key": "sk-compliance-rotated-9999",
            "publish_mode": "automated",
        },
    )

    # then
    history = " ".join(str(e.change_message) + e.object_repr for e in LogEntry.objects.all())
    assert "sk-compliance-rotated-9999" not in history
    assert "9999" not in history


@pytest.mark.integration
def test_the_test_connection_button_records_success(client, staff, connector, sandbox):
    # given
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    response = client.post(url, follow=True)

    # then
    connector.refresh_from_db()
    assert connector.status == Connector.Status.CONNECTED
    assert "connected to org-dainese" in response.content.decode()


@pytest.mark.integration
def test_the_test_connection_button_shows_a_scope_failure(client, staff, tenant, sandbox):
    # given
    from connectors.services import connector_connect

    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-key"
    )
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    response = client.post(url, follow=True)

    # then
    assert response.status_code == 200
    assert "Admin key is not Compliance scope" in response.content.decode()


@pytest.mark.integration
def test_a_failed_check_reads_once_on_the_connector_page(client, staff, tenant, sandbox):
    # given
    from connectors.services import connector_connect

    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-key"
    )
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    body = client.post(url, follow=True).content.decode()

    # then the reason is on its checklist line, not again as the message and the last error
    assert body.count("Admin key is not Compliance scope") == 1
    assert "Dainese: Partly connected — 1 of 2 checks failed" in body


def test_test_connection_refuses_a_typed_key_that_is_not_saved(client, staff, connector):
    # given the change form with a new key typed into "Replace the key", not saved
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])
    stored_key = connector.api_key

    # when the Test connection button submits the change form
    response = client.post(
        url,
        {
            "provider": connector.provider,
            "organization_id": connector.organization_id,
            "workspace_id": "",
            "api_key": "sk-typed-but-not-saved-9z9z",
            "publish_mode": connector.publish_mode,
        },
        follow=True,
    )

    # then nothing is tested (no OpenAI call: the base is unreachable here) and it says why
    page = response.content.decode()
    assert "Save first: the key you typed is not saved." in page
    connector.refresh_from_db()
    assert connector.status == Connector.Status.NEVER_TESTED
    assert connector.last_tested_at is None
    assert connector.api_key == stored_key
    assert "sk-typed-but-not-saved-9z9z" not in page


def test_test_connection_refuses_a_typed_organization_id_that_is_not_saved(
    client, staff, connector
):
    # given
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    response = client.post(url, {"organization_id": "org-other", "api_key": ""}, follow=True)

    # then
    assert "Save first: the organization id you typed is not saved." in response.content.decode()
    connector.refresh_from_db()
    assert connector.status == Connector.Status.NEVER_TESTED


@pytest.mark.integration
def test_test_connection_tests_the_saved_connector_when_the_form_matches_it(
    client, staff, connector, sandbox
):
    # given the change form as it is rendered: the stored values, "Replace the key" empty
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    response = client.post(
        url,
        {
            "organization_id": connector.organization_id,
            "workspace_id": "",
            "api_key": "",
            "publish_mode": connector.publish_mode,
        },
        follow=True,
    )

    # then
    connector.refresh_from_db()
    assert connector.status == Connector.Status.CONNECTED
    assert "connected to org-dainese" in response.content.decode()


def test_the_test_connection_url_refuses_get(client, staff, connector):
    # given
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    response = client.get(url)

    # then
    assert response.status_code == 405
    connector.refresh_from_db()
    assert connector.status == Connector.Status.NEVER_TESTED


@pytest.mark.integration
def test_the_test_connection_action_tests_each_selected_connector(
    client, superuser, connector, sandbox
):
    # given
    client.force_login(superuser)

    # when
    response = client.post(
        reverse("admin:connectors_connector_changelist"),
        {
            "action": "test_connection_selected",
            "_selected_action": [connector.pk],
        },
        follow=True,
    )

    # then
    connector.refresh_from_db()
    assert connector.status == Connector.Status.CONNECTED
    assert "connected to org-dainese" in response.content.decode()


def test_a_wrong_api_base_shows_openai_unavailable_and_the_app_keeps_serving(
    client, staff, connector, settings
):
    # given
    settings.OPENAI_API_BASE = "http://127.0.0.1:9/v1"
    client.force_login(staff)
    url = reverse("admin:connectors_connector_test_connection", args=[connector.pk])

    # when
    response = client.post(url, follow=True)

    # then
    assert response.status_code == 200
    assert "OpenAI unavailable: connection refused" in response.content.decode()
    assert client.get("/healthz").status_code == 200


def test_the_reencrypt_action_moves_the_selected_keys_to_the_newest_key(
    client, staff, connector, settings
):
    # given a newest encryption key in front of the old ones
    newest = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [newest, *settings.FIELD_ENCRYPTION_KEYS]
    client.force_login(staff)

    # when staff run the action on the connector list (which joins the tenant)
    response = client.post(
        reverse("admin:connectors_connector_changelist"),
        {"action": "reencrypt_selected", "_selected_action": [connector.pk]},
        follow=True,
    )

    # then the newest key alone reads the stored key
    assert [str(m) for m in response.context["messages"]] == ["Re-encrypted 1 key."]
    settings.FIELD_ENCRYPTION_KEYS = [newest]
    assert Connector.objects.get(pk=connector.pk).api_key == COMPLIANCE_KEY
