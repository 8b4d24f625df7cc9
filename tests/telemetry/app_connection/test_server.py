"""/mcp: the hub as an MCP server — the tool, its schema, its errors, tokens and tenants."""

import asyncio
import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauth2_provider.models import AccessToken, revoke_access_token

from telemetry.app_connection import server as mcp_module
from telemetry.app_connection import token_stamp
from telemetry.app_connection.models import McpClient
from telemetry.app_connection.server import _schemas
from telemetry.app_connection.services import mcp_tokens_revoke
from telemetry.hub.links import record_link_token
from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.hub.schema import hub_openapi_document
from tests.telemetry.app_connection.helpers import INITIALIZE, MCP_URL, call, mcp_token, rpc
from tests.telemetry.helpers import post_record

pytestmark = pytest.mark.django_db

BODY = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "inputs": {"incident_id": "INC-4121"},
    "output": "## Summary\nThe database failed over.",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}


@pytest.fixture
def token(tenant):
    return mcp_token(tenant)


def _result(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["result"]


def test_tools_list_serves_the_hub_request_body_as_input_schema(client, token):
    # when
    tools = _result(rpc(client, token, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))

    # then: the same component the OpenAPI document has, refs inlined
    (tool,) = tools["tools"]
    assert tool["name"] == "emit_hub_record"
    component = hub_openapi_document()["components"]["schemas"]["EmitHubRecordRequest"]
    assert tool["inputSchema"]["properties"].keys() == component["properties"].keys()
    assert tool["inputSchema"]["required"] == component["required"]
    assert tool["inputSchema"]["properties"]["usage"]["required"] == [
        "input_tokens",
        "output_tokens",
    ]
    assert tool["inputSchema"] == _schemas()[0]


def test_initialize_answers_in_json(client, token):
    response = rpc(client, token, INITIALIZE)

    assert response["Content-Type"].startswith("application/json")
    assert _result(response)["serverInfo"]["name"] == "claresia-hub"


def test_emit_returns_the_same_footer_as_the_http_api(client, token, skill, hub):
    # when
    result = _result(rpc(client, token, call("emit_hub_record", BODY)))

    # then
    record = HubRecord.objects.get()
    answer = result["structuredContent"]
    assert result["isError"] is False
    assert answer["id"] == record.id
    assert answer["url"] == f"https://api.claresia.com/hub/records/{record.id}?link=" + (
        record_link_token(record_id=record.id, created_at=record.created_at)
    )
    assert answer["footer"] == (
        f"Claresia · Incident Postmortem · $0.01 · 2.3s · [View record]({answer['url']})"
    )
    assert result["content"][0]["text"] == answer["footer"]
    # and the HTTP API, given the same record_key, answers the same record and footer
    http = post_record(hub, BODY)
    assert http.status_code == 200
    assert {k: http.json()[k] for k in answer} == answer


def test_emit_is_idempotent_on_record_key(client, token, skill):
    first = _result(rpc(client, token, call("emit_hub_record", BODY)))
    second = _result(rpc(client, token, call("emit_hub_record", BODY, request_id=2)))

    assert first["structuredContent"] == second["structuredContent"]
    assert HubRecord.objects.count() == 1


def test_refused_writes_the_governance_event(client, token, skill):
    result = _result(rpc(client, token, call("emit_hub_record", {**BODY, "status": "refused"})))

    record = HubRecord.objects.get()
    assert result["isError"] is False
    assert record.output == ""
    assert GovernanceEvent.objects.get().kind == GovernanceEvent.Kind.OUTPUT_REFUSED


@pytest.mark.parametrize(
    "body",
    [
        {"skill_id": "incident-postmortem"},
        {**BODY, "usage": {"input_tokens": "12"}},
        {**BODY, "latency_ms": -1},
        {**BODY, "skill_id": "Not A Slug"},
        {**BODY, "output": "   "},
    ],
)
def test_field_errors_are_tool_errors_with_the_http_messages(client, token, skill, hub, body):
    # when
    result = _result(rpc(client, token, call("emit_hub_record", body)))

    # then
    http = post_record(hub, body)
    assert http.status_code == 400
    assert result["isError"] is True
    assert result["structuredContent"] == http.json()
    assert not HubRecord.objects.exists()


def test_unknown_skill_is_a_tool_error_like_the_http_404(client, token, hub):
    result = _result(rpc(client, token, call("emit_hub_record", BODY)))

    assert result["isError"] is True
    assert result["structuredContent"] == post_record(hub, BODY).json()


def test_another_tenants_token_cannot_write_to_this_tenants_skill(client, skill, other_tenant):
    # given: the skill is dainese's; the token is othercorp's
    other = mcp_token(other_tenant)

    # when
    result = _result(rpc(client, other, call("emit_hub_record", BODY)))

    # then
    assert result["isError"] is True
    assert not HubRecord.objects.exists()


def test_records_are_written_to_the_tokens_tenant(client, skill, other_skill, other_tenant):
    other = mcp_token(other_tenant)

    _result(rpc(client, other, call("emit_hub_record", {**BODY, "skill_id": "quarterly-review"})))

    assert HubRecord.objects.get().tenant == other_tenant


def test_unknown_tool_is_a_jsonrpc_error(client, token):
    response = rpc(client, token, call("delete_everything", {}))

    assert response.json()["error"]["code"] == -32602
    assert not HubRecord.objects.exists()


@pytest.mark.parametrize("token_value", [None, "", "not-a-token"])
def test_missing_or_wrong_token_is_401_pointing_at_the_resource_metadata(
    client, skill, token_value
):
    response = rpc(client, token_value, call("emit_hub_record", BODY))

    assert response.status_code == 401
    assert (
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
        in response["WWW-Authenticate"]
    )
    assert not HubRecord.objects.exists()


def test_expired_token_is_401(client, tenant, skill):
    expired = mcp_token(tenant, seconds=-1)

    assert rpc(client, expired, call("emit_hub_record", BODY)).status_code == 401


def test_a_token_without_the_hub_scope_is_401(client, tenant, skill):
    other_scope = mcp_token(tenant, scope="read")

    assert rpc(client, other_scope, call("emit_hub_record", BODY)).status_code == 401


def test_revoking_cuts_the_next_call(client, tenant, token, skill):
    assert _result(rpc(client, token, call("emit_hub_record", BODY)))["isError"] is False

    mcp_tokens_revoke(clients=McpClient.objects.filter(tenant=tenant))

    assert (
        rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k2"})).status_code == 401
    )
    assert HubRecord.objects.count() == 1


def test_a_token_revoked_by_the_oauth_revocation_fails_its_very_next_call(client, token, skill):
    # given: the token worked, so this process remembers it
    assert _result(rpc(client, token, call("emit_hub_record", BODY)))["isError"] is False

    # when: revoked as DOT's /oauth/revoke_token/ and admin action revoke it (RFC 7009)
    revoke_access_token(AccessToken.objects.get())

    # then
    second = rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k2"}))
    assert second.status_code == 401
    assert HubRecord.objects.count() == 1


def test_a_token_revoked_in_another_process_fails_its_very_next_call_here(client, token, skill):
    # given: the token worked, so this process remembers it
    assert _result(rpc(client, token, call("emit_hub_record", BODY)))["isError"] is False

    # when: another process deletes it, which this process's signals never see; what reaches
    # this one is the shared token stamp that process replaces
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AccessToken._meta.db_table}")  # noqa: S608 - our table
    token_stamp.replace()

    # then
    second = rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k2"}))
    assert second.status_code == 401
    assert HubRecord.objects.count() == 1


def test_a_remembered_token_is_not_trusted_past_its_expiry(client, token, skill):
    # given: the token worked, so this process remembers it
    assert _result(rpc(client, token, call("emit_hub_record", BODY)))["isError"] is False
    expires = AccessToken.objects.get().expires

    # when: its expiry passes, with nothing else changed
    with time_machine.travel(expires + timedelta(seconds=1)):
        second = rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k2"}))

    # then
    assert second.status_code == 401
    assert HubRecord.objects.count() == 1


def test_tokens_are_stored_only_as_checksums(token):
    stored = AccessToken.objects.get()
    assert stored.token == ""
    assert token not in json.dumps(list(AccessToken.objects.values()), default=str)


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ("{not json", "application/json"),
        ("[]", "application/json"),
        (json.dumps([call("emit_hub_record", BODY)]), "application/json"),
        (json.dumps({"jsonrpc": "2.0", "id": 1}), "application/json"),
        (json.dumps(call("emit_hub_record", BODY)), "text/plain"),
        ("", "application/json"),
    ],
)
def test_bad_requests_get_protocol_errors_and_change_nothing(
    client, token, skill, payload, content_type
):
    response = rpc(client, token, payload, content_type=content_type)

    assert 400 <= response.status_code < 500 or "error" in response.json()
    assert response.status_code < 500
    assert not HubRecord.objects.exists()


def test_oversized_body_is_413(client, token, skill):
    huge = call("emit_hub_record", {**BODY, "output": "x" * 500_000})

    response = rpc(client, token, huge)

    assert response.status_code == 413
    assert "error" in response.json()
    assert not HubRecord.objects.exists()


def test_arguments_over_the_hub_bound_are_a_tool_error(client, token, skill):
    result = _result(rpc(client, token, call("emit_hub_record", {**BODY, "output": "x" * 100_001})))

    assert result["isError"] is True
    assert "100,000" in result["structuredContent"]["detail"]


def test_exchanges_run_on_one_long_lived_event_loop(client, token, skill, monkeypatch):
    # given: the loop each exchange runs on, recorded
    loops = []
    serve = mcp_module._serve

    async def recording_serve(scope, body):
        loops.append(asyncio.get_running_loop())
        return await serve(scope, body)

    monkeypatch.setattr(mcp_module, "_serve", recording_serve)

    # when
    first = _result(rpc(client, token, call("emit_hub_record", BODY)))
    second = _result(rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k2"})))

    # then: one loop for both, not one per call; the tool wrote on the request's own database
    # connection (the records are visible in this test's transaction)
    assert len(loops) == 2
    assert loops[0] is loops[1]
    assert first["isError"] is second["isError"] is False
    assert HubRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        (call("emit_hub_record", BODY), {}),
        (call("emit_hub_record", BODY, request_id="req-7"), {}),
        (call("emit_hub_record", BODY), {"HTTP_MCP_PROTOCOL_VERSION": "2025-06-18"}),
        (call("emit_hub_record", {**BODY, "usage": {"input_tokens": -1}}), {}),
        (call("emit_hub_record", {**BODY, "skill_id": "no-such-skill"}), {}),
        (call("no_such_tool", BODY), {}),
        ({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"arguments": {}}}, {}),
        ({"jsonrpc": "2.0", "id": 4, "method": "tools/call"}, {}),
    ],
)
def test_a_plain_tool_call_is_answered_as_the_sdk_transport_answers_it(
    client, token, skill, monkeypatch, payload, headers
):
    # given: the same call answered through the SDK's full stateless transport
    take_plain_calls = mcp_module._plain_tool_call
    monkeypatch.setattr(mcp_module, "_plain_tool_call", lambda scope, body: None)
    through_transport = rpc(client, token, payload, **headers)
    monkeypatch.setattr(mcp_module, "_plain_tool_call", take_plain_calls)

    # when: answered by the direct path (the record exists now, so the answer is the same one)
    direct = rpc(client, token, payload, **headers)

    # then
    assert take_plain_calls is not None
    assert direct.status_code == through_transport.status_code
    assert direct["Content-Type"] == through_transport["Content-Type"]
    assert direct.content == through_transport.content
    assert HubRecord.objects.count() <= 1


def test_what_is_not_a_plain_tool_call_goes_through_the_sdk_transport():
    # given: a plain tool call, and its variants the direct path must leave to the transport
    accept = (b"accept", b"application/json")
    json_type = (b"content-type", b"application/json")
    body = json.dumps(call("emit_hub_record", BODY)).encode()

    def plain(headers, content=body):
        return mcp_module._plain_tool_call({"method": "POST", "headers": headers}, content)

    # when / then
    assert plain([accept, json_type]) is not None
    assert plain([accept]) is None
    assert plain([(b"accept", b"text/event-stream"), json_type]) is None
    assert plain([accept, json_type, (b"mcp-session-id", b"s1")]) is None
    assert plain([accept, json_type, (b"mcp-protocol-version", b"2099-01-01")]) is None
    assert plain([accept, json_type], json.dumps(INITIALIZE).encode()) is None
    assert plain([accept, json_type], json.dumps([call("emit_hub_record", BODY)]).encode()) is None
    assert plain([accept, json_type], b"{not json") is None
    assert mcp_module._plain_tool_call({"method": "GET", "headers": [accept]}, b"") is None


def test_get_is_refused_without_a_stream(client, token):
    response = client.get(MCP_URL, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert 400 <= response.status_code < 500


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_bodies = st.one_of(
    _json,
    st.fixed_dictionaries(
        {
            "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
            "id": st.one_of(st.integers(), st.text(max_size=5), st.none()),
            "method": st.sampled_from(["tools/call", "tools/list", "initialize", "ping", "x"]),
            "params": st.one_of(
                _json,
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["emit_hub_record", "nope"]),
                        "arguments": st.one_of(
                            _json,
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    "skill_id": st.one_of(st.just("incident-postmortem"), _json),
                                    "output": _json,
                                    "status": _json,
                                    "usage": _json,
                                    "latency_ms": _json,
                                    "inputs": _json,
                                },
                            ),
                        ),
                    }
                ),
            ),
        }
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_bodies)
def test_fuzzed_jsonrpc_bodies_never_get_a_5xx(client, token, skill, body):
    response = rpc(client, token, json.dumps(body))

    assert response.status_code < 500, response.content


def test_protected_resource_metadata(client):
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ]:
        metadata = client.get(path).json()
        assert metadata["resource"] == "http://testserver/mcp"
        assert metadata["authorization_servers"] == ["http://testserver"]


def test_authorization_server_metadata(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert metadata["issuer"] == "http://testserver"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["none"]
    assert metadata["registration_endpoint"] == "http://testserver/oauth/register"


def test_registration_creates_a_public_client_bound_to_no_tenant(client):
    response = client.post(
        "/oauth/register",
        data=json.dumps(
            {
                "client_name": "ChatGPT",
                "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_post",
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 201
    answer = response.json()
    assert answer["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in answer
    client_row = McpClient.objects.get(application__client_id=answer["client_id"])
    assert client_row.tenant is None
    assert client_row.application.client_type == "public"


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"redirect_uris": []},
        {"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]},
        {"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]},
        {"redirect_uris": ["ftp://a.example/cb"]},
        {"redirect_uris": ["https://a.example/cb#x"]},
        {"redirect_uris": "https://a.example/cb"},
    ],
)
def test_registration_refuses_what_chatgpt_does_not_need(client, metadata):
    response = client.post(
        "/oauth/register", data=json.dumps(metadata), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not McpClient.objects.exists()


def test_an_unapproved_clients_token_is_refused(client, tenant, skill):
    token = mcp_token(tenant)
    McpClient.objects.update(tenant=None)

    assert rpc(client, token, call("emit_hub_record", BODY)).status_code == 401
    assert AccessToken.objects.filter(expires__gt=timezone.now() - timedelta(days=1)).exists()


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_a_throttled_connection_gets_429_with_retry_after_and_writes_nothing(
    client, token, skill, settings
):
    # given: two calls a minute for a connection, both spent
    _rates(settings, mcp_client="2/min")
    _result(rpc(client, token, call("emit_hub_record", BODY)))
    _result(rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k2"})))

    # when
    response = rpc(client, token, call("emit_hub_record", {**BODY, "record_key": "k3"}))

    # then
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert response.json()["error"]["code"] == -32000
    assert HubRecord.objects.count() == 2


def test_the_throttle_counts_per_connection_not_per_token(
    client, tenant, other_tenant, skill, other_skill, settings
):
    # given: a connection with two access tokens (one refreshed), and another connection
    _rates(settings, mcp_client="1/min")
    first = mcp_token(tenant)
    application = AccessToken.objects.get().application
    second = mcp_token(tenant)
    AccessToken.objects.exclude(application=application).update(application=application)
    other = mcp_token(other_tenant)
    _result(rpc(client, first, call("emit_hub_record", BODY)))

    # when
    refreshed = rpc(client, second, call("emit_hub_record", {**BODY, "record_key": "k2"}))
    other_body = {**BODY, "skill_id": "quarterly-review"}
    elsewhere = rpc(client, other, call("emit_hub_record", other_body))

    # then
    assert refreshed.status_code == 429
    assert elsewhere.status_code == 200


def test_an_unauthenticated_call_is_not_counted(client, token, skill, settings):
    _rates(settings, mcp_client="1/min")
    rpc(client, "not-a-token", call("emit_hub_record", BODY))

    assert rpc(client, token, call("emit_hub_record", BODY)).status_code == 200


REGISTRATION = {"client_name": "ChatGPT", "redirect_uris": ["https://chatgpt.com/cb"]}


def _register(client, **extra):
    return client.post(
        "/oauth/register", data=json.dumps(REGISTRATION), content_type="application/json", **extra
    )


def test_registration_is_throttled_per_client_address(client, settings):
    # given: two registrations a minute from an address, both spent
    _rates(settings, oauth_register="2/min")
    assert _register(client).status_code == 201
    assert _register(client).status_code == 201

    # when
    throttled = _register(client)
    elsewhere = _register(client, REMOTE_ADDR="203.0.113.9")

    # then
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 61
    assert throttled.json()["error"] == "too_many_requests"
    assert elsewhere.status_code == 201
    assert McpClient.objects.count() == 3
