"""Tokens bound to the hub (RFC 8707, MCP authorization 2026-07-28): a `resource` other than
this hub's /mcp is refused at the authorization endpoint and at the token endpoint
(`invalid_target`), a request without one is bound to /mcp, and /mcp refuses any token whose
stored audience is not itself."""

import pytest
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from telemetry.hub.models import HubRecord
from tests.telemetry.app_connection.helpers import (
    CHATGPT_REDIRECT_URI,
    HUB_RESOURCE,
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

OTHER_RESOURCE = "https://other-resource.example/api"


@pytest.fixture
def admin(tenant):
    return make_tenant_admin(tenant)


@pytest.fixture
def approved(tenant, admin):
    return make_approved_client(tenant, admin)


def _code(client, application, **overrides) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    response = authorize(client, application.client_id, challenge, **overrides)
    assert response.status_code == 302, response.content
    return redirect_query(response)["code"], verifier


def test_authorizing_for_another_resource_is_refused_at_the_redirect_uri(client, approved):
    # given: an end user's browser sent to authorize a token for another resource
    _, challenge = pkce_pair()

    # when
    response = authorize(client, approved.client_id, challenge, resource=OTHER_RESOURCE)

    # then: back to the client's (registered) redirect URI with invalid_target, and no code
    assert response.status_code == 302
    assert response["Location"].startswith(CHATGPT_REDIRECT_URI + "?")
    query = redirect_query(response)
    assert query["error"] == "invalid_target"
    assert query["state"] == "state-1"
    assert "code" not in query
    assert not Grant.objects.exists()


def test_the_tenant_admin_is_not_shown_the_page_for_another_resource(client, approved, admin):
    client.force_login(admin)
    _, challenge = pkce_pair()

    response = authorize(
        client, approved.client_id, challenge, resource=[HUB_RESOURCE, OTHER_RESOURCE]
    )

    assert response.status_code == 302
    assert redirect_query(response)["error"] == "invalid_target"
    assert not Grant.objects.exists()


def test_another_resource_with_an_unregistered_redirect_uri_gets_an_error_page(client, approved):
    _, challenge = pkce_pair()

    response = authorize(
        client,
        approved.client_id,
        challenge,
        resource=OTHER_RESOURCE,
        redirect_uri="https://attacker.example/steal",
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert not Grant.objects.exists()


def test_an_altered_resource_in_the_approval_form_is_refused(client, approved, admin, tenant):
    # given: the admin's approval form, its hidden resource field changed in the browser
    client.force_login(admin)
    _, challenge = pkce_pair()
    form = {
        "client_id": approved.client_id,
        "redirect_uri": CHATGPT_REDIRECT_URI,
        "response_type": "code",
        "state": "state-1",
        "scope": "hub.records",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": OTHER_RESOURCE,
        "tenant": str(tenant.pk),
        "allow": "Authorize",
    }

    # when
    response = client.post("/oauth/authorize/", form)

    # then: the page after the form navigates to the callback with the error
    assert response.status_code == 200
    assert redirect_query(response)["error"] == "invalid_target"
    assert not Grant.objects.exists()


def test_a_request_without_resource_is_bound_to_the_hub(client, approved, skill):
    # given: authorization and exchange without any resource indicator
    code, verifier = _code(client, approved, resource=None)
    assert Grant.objects.get().resource == [HUB_RESOURCE]

    # when
    response = exchange(client, approved.client_id, code, verifier, resource=None)

    # then: the token's audience is /mcp, and /mcp takes it
    assert response.status_code == 200, response.content
    assert AccessToken.objects.get().resource == [HUB_RESOURCE]
    assert RefreshToken.objects.get().resource == [HUB_RESOURCE]
    access = response.json()["access_token"]
    assert rpc(client, access, call("emit_hub_record", RECORD_BODY)).status_code == 200


def test_exchanging_a_code_for_another_resource_is_refused(client, approved):
    # given: a code for the hub
    code, verifier = _code(client, approved)

    # when: the exchange asks for another resource
    response = exchange(client, approved.client_id, code, verifier, resource=OTHER_RESOURCE)

    # then
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert not AccessToken.objects.exists()


def test_a_code_stored_for_another_resource_buys_no_token(client, approved):
    # given: a grant whose stored audience is another resource (issued before audiences
    # were checked, or written by anything else)
    code, verifier = _code(client, approved)
    Grant.objects.update(resource=[OTHER_RESOURCE])

    # when: exchanged without naming a resource, so the grant's audience would be inherited
    response = exchange(client, approved.client_id, code, verifier, resource=None)

    # then
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert not AccessToken.objects.exists()


def test_refreshing_for_another_resource_is_refused(client, approved):
    code, verifier = _code(client, approved)
    tokens = exchange(client, approved.client_id, code, verifier).json()

    response = client.post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": approved.client_id,
            "resource": OTHER_RESOURCE,
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


@pytest.mark.parametrize("audience", [[OTHER_RESOURCE], [], [HUB_RESOURCE, OTHER_RESOURCE]])
def test_mcp_refuses_a_token_whose_audience_is_not_itself(client, tenant, skill, audience):
    # given: the attack's token — valid, unexpired, the hub's scope, another audience
    token = mcp_token(tenant, resource=audience)

    # when
    response = rpc(client, token, call("emit_hub_record", RECORD_BODY))

    # then: 401 with the challenge pointing at the resource metadata, nothing written
    assert response.status_code == 401
    assert (
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"'
        in (response["WWW-Authenticate"])
    )
    assert not HubRecord.objects.exists()


def test_mcp_takes_its_own_audience_written_another_way(client, tenant, skill):
    token = mcp_token(tenant, resource=["HTTP://TestServer:80/mcp/"])

    assert rpc(client, token, call("emit_hub_record", RECORD_BODY)).status_code == 200
