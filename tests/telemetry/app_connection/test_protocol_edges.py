"""Inputs at the edges of the OAuth and MCP protocols, each answered as its spec says and never
with a 5xx: unsupported grants (RFC 6749 §5.2), a replayed authorization code (RFC 6749
§4.1.2), GET and DELETE on /mcp (stateless Streamable HTTP), JSON-RPC ids that are not ids."""

import json

import pytest
from oauth2_provider.models import AccessToken, RefreshToken

from telemetry.hub.models import HubRecord
from tests.telemetry.app_connection.helpers import (
    MCP_URL,
    RECORD_BODY,
    authorize,
    call,
    exchange,
    make_approved_client,
    make_tenant_admin,
    mcp_token,
    pkce_pair,
    redirect_query,
    rpc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(tenant):
    return make_approved_client(tenant, make_tenant_admin(tenant, is_staff=False))


@pytest.fixture
def token(tenant):
    return mcp_token(tenant)


@pytest.mark.parametrize(
    "grant_type",
    [
        "urn:ietf:params:oauth:grant-type:device_code",
        "client_credentials",
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "nonsense",
        "",
    ],
)
def test_an_unsupported_grant_is_400_unsupported_grant_type(client, approved, grant_type):
    response = client.post(
        "/oauth/token/", {"grant_type": grant_type, "client_id": approved.client_id}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert not AccessToken.objects.exists()


def test_a_replayed_code_revokes_the_tokens_issued_from_it(client, approved, skill):
    # given: a code exchanged once, its access token refreshed once (a rotated pair)
    verifier, challenge = pkce_pair()
    code = redirect_query(authorize(client, approved.client_id, challenge))["code"]
    first = exchange(client, approved.client_id, code, verifier)
    assert first.status_code == 200, first.content
    refreshed = client.post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": first.json()["refresh_token"],
            "client_id": approved.client_id,
        },
    ).json()
    recorded = rpc(client, refreshed["access_token"], call("emit_hub_record", RECORD_BODY))
    assert recorded.status_code == 200

    # when: the same code is presented again
    replay = exchange(client, approved.client_id, code, verifier)

    # then: refused, and every token descending from the code is cut
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    again = call("emit_hub_record", {**RECORD_BODY, "record_key": "k2"})
    assert rpc(client, refreshed["access_token"], again).status_code == 401
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    refresh_again = client.post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": approved.client_id,
        },
    )
    assert refresh_again.status_code == 400
    assert HubRecord.objects.count() == 1


def test_an_unknown_code_revokes_nothing(client, approved, tenant):
    # given: another connection's live token
    token = mcp_token(tenant)
    verifier, _ = pkce_pair()

    # when
    response = exchange(client, approved.client_id, "never-issued", verifier)

    # then
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert rpc(client, token, {"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 200


@pytest.mark.parametrize("method", ["get", "delete", "put"])
@pytest.mark.parametrize("authorized", [True, False])
def test_mcp_answers_only_post(client, token, method, authorized):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if authorized else {}

    response = getattr(client, method)(MCP_URL, HTTP_ACCEPT="text/event-stream", **headers)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not response["Content-Type"].startswith("text/event-stream")


@pytest.mark.parametrize("request_id", [{"a": 1}, [1], True, False, None, 1.5])
@pytest.mark.parametrize("method", ["tools/call", "tools/list", "ping"])
def test_a_request_id_that_is_not_a_string_or_integer_is_invalid_request(
    client, token, skill, request_id, method
):
    # given
    message = {**call("emit_hub_record", RECORD_BODY), "id": request_id, "method": method}

    # when
    response = rpc(client, token, message)

    # then: a JSON-RPC error with a null id, not a 202 with no answer; nothing written
    assert response.status_code == 400
    answer = response.json()
    assert answer["jsonrpc"] == "2.0"
    assert answer["id"] is None
    assert answer["error"]["code"] == -32600
    assert not HubRecord.objects.exists()


@pytest.mark.parametrize("request_id", [7, "req-7"])
def test_string_and_integer_ids_are_answered_with_that_id(client, token, request_id):
    response = rpc(client, token, {"jsonrpc": "2.0", "id": request_id, "method": "ping"})

    assert response.status_code == 200
    assert response.json()["id"] == request_id


def test_a_notification_still_gets_202(client, token):
    message = {"jsonrpc": "2.0", "method": "notifications/initialized"}

    response = rpc(client, token, json.dumps(message))

    assert response.status_code == 202
