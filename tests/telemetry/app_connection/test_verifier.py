"""HubTokenVerifier: the /mcp token check in the MCP SDK's TokenVerifier shape."""

import inspect
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils import timezone
from mcp.server.auth.provider import AccessToken as SdkAccessToken
from mcp.server.auth.provider import TokenVerifier
from oauth2_provider.models import AccessToken

from telemetry.app_connection.models import McpClient
from telemetry.app_connection.server import bridge
from telemetry.app_connection.services import HubTokenVerifier, mcp_tokens_revoke
from tests.telemetry.app_connection.helpers import HUB_RESOURCE, mcp_token

pytestmark = pytest.mark.django_db


def verify(token: str, *, resource: str = HUB_RESOURCE):
    """Through asgiref's public sync_to_async (the verifier's default), from this sync test."""
    return async_to_sync(HubTokenVerifier(resource=resource).verify_token)(token)


def verify_on_bridge(token: str, *, resource: str = HUB_RESOURCE):
    """As /mcp calls it: on the WSGI bridge's loop, the lookup through the bridge's run_sync."""
    verifier = HubTokenVerifier(resource=resource, run_sync=bridge.run_sync)

    async def run(_kept):
        return await verifier.verify_token(token)

    return bridge.call(run)


def test_the_verifier_has_the_sdk_token_verifier_shape():
    ours = inspect.signature(HubTokenVerifier.verify_token)
    sdk = inspect.signature(TokenVerifier.verify_token)

    assert inspect.iscoroutinefunction(HubTokenVerifier.verify_token)
    assert list(ours.parameters) == list(sdk.parameters)


@pytest.mark.parametrize("check", [verify, verify_on_bridge])
def test_a_valid_token_is_the_sdk_access_token_of_its_client(tenant, check):
    token = mcp_token(tenant)
    row = AccessToken.objects.select_related("application").get()

    access = check(token)

    assert isinstance(access, SdkAccessToken)
    assert access.client_id == row.application.client_id
    assert access.scopes == [settings.MCP_SCOPE]
    assert access.expires_at == int(row.expires.timestamp())
    assert access.resource == HUB_RESOURCE
    assert access.caller.tenant == tenant
    assert "caller" not in access.model_dump()


@pytest.mark.parametrize("check", [verify, verify_on_bridge])
def test_a_revoked_token_is_none_on_its_very_next_call(tenant, check):
    # given: a token verified once, so this process remembers it
    token = mcp_token(tenant)
    assert check(token) is not None

    # when: its client's tokens are revoked
    mcp_tokens_revoke(clients=McpClient.objects.filter(tenant=tenant))

    # then: the very next verification refuses it
    assert check(token) is None


@pytest.mark.parametrize("check", [verify, verify_on_bridge])
def test_a_token_deleted_behind_the_memory_is_none_on_its_next_call(tenant, check):
    # given: remembered, then deleted as DOT's revocation endpoint deletes it
    token = mcp_token(tenant)
    assert check(token) is not None

    AccessToken.objects.get().delete()

    assert check(token) is None


def test_expired_other_audience_wrong_scope_and_garbage_are_none(tenant):
    expired = mcp_token(tenant, seconds=-1)
    elsewhere = mcp_token(tenant, resource=["https://other.example/mcp"])
    unscoped = mcp_token(tenant, scope="read")
    valid = mcp_token(tenant)

    assert verify(expired) is None
    assert verify(elsewhere) is None
    assert verify(unscoped) is None
    assert verify("") is None
    assert verify("x" * 513) is None
    assert verify(valid, resource="https://other.example/mcp") is None
    assert verify(valid) is not None


def test_a_token_that_expires_after_it_was_remembered_is_none(tenant):
    token = mcp_token(tenant, seconds=60)
    assert verify(token) is not None

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert verify(token) is None
