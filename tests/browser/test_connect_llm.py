"""A newcomer connects the demo tenant to ChatGPT Enterprise in the admin, in a real browser."""

import pytest
from django.contrib.auth import get_user_model

from claresia.models import TenantMembership
from connectors.models import Connector
from tests.browser.helpers import connect_llm, log_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def staff_with_password(transactional_db, tenant):
    user = get_user_model().objects.create_user(
        username="ana", password="a-long-test-passphrase", is_staff=True
    )
    TenantMembership.objects.create(user=user, tenant=tenant)
    return user


def test_connect_llm_then_test_connection_success_and_scope_failure(
    page, staff_with_password, sandbox, tenant
):
    # given
    log_in(page, "ana", "a-long-test-passphrase")

    # when: Connect LLM with a regular admin key
    connect_llm(page, "sk-admin-regular-key")

    # then
    page.get_by_text("Admin key is not Compliance scope").first.wait_for()
    assert "sk-admin-regular-key" not in page.content()

    # when: the key is re-minted with Compliance scope, pasted, and tested before saving
    tested_at = Connector.objects.get(tenant=tenant).last_tested_at
    page.fill("#id_api_key", "sk-compliance-reminted-1a2b")
    page.get_by_role("button", name="Test connection").click()

    # then: the typed key is not tested in silence
    page.get_by_text("Save first: the key you typed is not saved.").wait_for()
    assert Connector.objects.get(tenant=tenant).last_tested_at == tested_at

    # when: pasted again and saved
    page.fill("#id_api_key", "sk-compliance-reminted-1a2b")
    page.click("input[name=_continue]")
    page.get_by_role("button", name="Test connection").click()

    # then
    page.get_by_text("connected to org-dainese").wait_for()
    assert "…1a2b" in page.content()
    assert Connector.objects.get(tenant=tenant).status == Connector.Status.CONNECTED
