"""The authorization endpoint for a client a tenant admin has approved: each end user's later
authorization passes without a Claresia login or a page, with a code bound to the client's
tenant; an unapproved, revoked or disconnected client does not."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from oauth2_provider.models import Grant

from claresia.models import TenantMembership
from telemetry.app_connection.models import McpClient
from telemetry.app_connection.services import (
    mcp_client_approve,
    mcp_client_disconnect,
    mcp_client_register,
    mcp_service_user,
    mcp_tokens_revoke,
)
from telemetry.hub.models import HubRecord
from tests.telemetry.app_connection.helpers import call, rpc

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://chatgpt.com/connector_platform_oauth_redirect"
BODY = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "output": "## Summary\nThe database failed over.",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(client, client_id: str, challenge: str, **overrides):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "state-1",
        "scope": settings.MCP_SCOPE,
        "resource": "http://testserver/mcp",
        **overrides,
    }
    params = {key: value for key, value in params.items() if value is not None}
    return client.get(f"/oauth/authorize/?{urlencode(params)}")


def _query(response) -> dict[str, str]:
    return {
        key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()
    }


@pytest.fixture
def admin(tenant):
    user = get_user_model().objects.create_user(username="ana", password="x" * 20, is_staff=True)
    TenantMembership.objects.create(user=user, tenant=tenant, role="admin")
    return user


@pytest.fixture
def application():
    return mcp_client_register(client_name="ChatGPT", redirect_uris=[REDIRECT_URI])


@pytest.fixture
def approved(application, tenant, admin):
    mcp_client_approve(client_id=application.client_id, tenant=tenant, user=admin)
    return application


def test_an_end_user_of_an_approved_client_gets_a_code_without_a_login(
    client, approved, tenant, skill
):
    # given: an anonymous browser, a fresh PKCE pair
    verifier, challenge = _pkce()

    # when
    response = _authorize(client, approved.client_id, challenge)

    # then: straight back to the client with a code and the state, nobody logged in
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(REDIRECT_URI + "?")
    query = _query(response)
    assert query["state"] == "state-1"
    assert "_auth_user_id" not in client.session
    grant = Grant.objects.get()
    assert grant.user == mcp_service_user(tenant=tenant)

    # and the code buys a token that writes to the client's tenant
    token = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
            "client_id": approved.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    assert rpc(client, access, call("emit_hub_record", BODY)).status_code == 200
    assert HubRecord.objects.get().tenant == tenant


def test_the_tenant_service_user_can_never_log_in(client, approved, tenant):
    user = mcp_service_user(tenant=tenant)

    assert user.username == "mcp-dainese"
    assert not user.is_active
    assert not user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()
    assert not TenantMembership.objects.filter(user=user).exists()
    assert ModelBackend().authenticate(None, username="mcp-dainese", password="") is None
    client.force_login(user)  # even with a session, neither the admin nor the Command Center
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"state": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_an_end_user_authorization_still_needs_state_and_pkce_s256(
    client, approved, overrides, error
):
    _, challenge = _pkce()

    response = _authorize(client, approved.client_id, challenge, **overrides)

    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert _query(response)["error"] == error
    assert not Grant.objects.exists()


def test_an_unregistered_redirect_uri_gets_no_redirect(client, approved):
    _, challenge = _pkce()

    response = _authorize(
        client, approved.client_id, challenge, redirect_uri="https://evil.example/cb"
    )

    assert response.status_code == 400
    assert not Grant.objects.exists()


def test_an_unapproved_client_still_sends_to_the_tenant_admins_login(client, application):
    _, challenge = _pkce()

    response = _authorize(client, application.client_id, challenge)

    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    assert not Grant.objects.exists()


def test_a_revoked_client_needs_a_tenant_admins_approval_again(client, approved, tenant, admin):
    # given: a tenant admin revoked the client's tokens
    mcp_tokens_revoke(clients=McpClient.objects.filter(application=approved))
    _, challenge = _pkce()

    # when / then: an end user is sent to the login, no code
    response = _authorize(client, approved.client_id, challenge)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    assert not Grant.objects.exists()

    # and once the admin approves again, end users pass again
    mcp_client_approve(client_id=approved.client_id, tenant=tenant, user=admin)
    response = _authorize(client, approved.client_id, challenge)
    assert "code" in _query(response)


def test_a_disconnected_client_is_refused(client, approved, admin):
    mcp_client_disconnect(clients=McpClient.objects.filter(application=approved))
    _, challenge = _pkce()

    # an end user is sent to the login, and even a tenant admin then gets an error, no code
    response = _authorize(client, approved.client_id, challenge)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
    client.force_login(admin)
    assert _authorize(client, approved.client_id, challenge).status_code == 400
    assert not Grant.objects.exists()


def test_a_person_holding_the_service_users_name_is_never_used(client, application, tenant, admin):
    # given: a real account already named like the service user
    get_user_model().objects.create_user(username="mcp-dainese", password="y" * 20)
    mcp_client_approve(client_id=application.client_id, tenant=tenant, user=admin)
    _, challenge = _pkce()

    response = _authorize(client, application.client_id, challenge)

    assert _query(response)["error"] == "invalid_request"
    assert not Grant.objects.exists()
