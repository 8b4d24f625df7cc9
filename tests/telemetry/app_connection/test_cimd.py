"""Client ID Metadata Documents: the server advertises them; an https client_id is fetched over
real HTTPS (a test server on loopback, trusted through the test-only settings), its document's
client_id must be its URL, its redirect URIs and name are used, it becomes a public MCP client
that a tenant admin approves like a registered one; the fetch is bounded (public addresses
only, size, no redirects) and cached per the document's Cache-Control."""

import json
import socket
import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.cimd import CIMDError
from oauth2_provider.models import AccessToken, Application, Grant

from telemetry.app_connection.cimd import McpMetadataFetcher
from telemetry.app_connection.models import McpClient
from telemetry.hub.models import HubRecord
from tests.telemetry.app_connection.helpers import (
    HUB_RESOURCE,
    RECORD_BODY,
    authorize,
    call,
    make_tenant_admin,
    pkce_pair,
    redirect_query,
    rpc,
)
from tests.telemetry.app_connection.https_server import Document

pytestmark = pytest.mark.django_db

PATH = "/oauth/client-metadata.json"
CALLBACK = "https://chatgpt.com/connector/oauth/cb-123"


def _metadata(server, **overrides) -> dict:
    return {
        "client_id": server.url(PATH),
        "client_name": "ChatGPT",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }


def _serve(server, metadata: dict, cache_control: str = "max-age=600") -> str:
    server.documents[PATH] = Document(
        json.dumps(metadata).encode(),
        headers={"Content-Type": "application/json", "Cache-Control": cache_control},
    )
    return server.url(PATH)


@pytest.fixture
def admin(tenant):
    return make_tenant_admin(tenant)


@pytest.fixture
def admin_client(client, admin):
    """The tenant admin's browser: a client's first authorization is hers (a login first)."""
    client.force_login(admin)
    return client


def test_the_server_advertises_metadata_documents(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["registration_endpoint"] == "http://testserver/oauth/register"


def test_a_metadata_document_client_is_approved_and_records(
    client, documents, admin, tenant, skill
):
    # given: ChatGPT's client_id is the URL of its document, served over HTTPS
    client_id = _serve(documents, _metadata(documents))
    verifier, challenge = pkce_pair()
    client.force_login(admin)

    # when: the tenant admin opens the authorization URL
    page = authorize(client, client_id, challenge, redirect_uri=CALLBACK)

    # then: the document was fetched, and its client is a public MCP client without a secret
    assert page.status_code == 200, page.content
    application = Application.objects.get(client_id=client_id)
    assert application.name == "ChatGPT"
    assert application.redirect_uris == CALLBACK
    assert application.client_type == Application.CLIENT_PUBLIC
    assert application.client_secret == ""
    assert McpClient.objects.get(application=application).tenant is None

    # when: she approves, and ChatGPT exchanges the code with its client_id URL
    approval = client.post(
        "/oauth/authorize/",
        {
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "state": "state-1",
            "scope": "hub.records",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": HUB_RESOURCE,
            "tenant": str(tenant.pk),
            "allow": "Authorize",
        },
    )
    assert approval.status_code == 200, approval.content  # the page that navigates on
    code = redirect_query(approval)["code"]
    client.logout()
    token = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": HUB_RESOURCE,
        },
    )

    # then: the token writes to the tenant the admin chose; the document was fetched once
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    assert rpc(client, access, call("emit_hub_record", RECORD_BODY)).status_code == 200
    assert HubRecord.objects.get().tenant == tenant
    assert McpClient.objects.get(application=application).tenant == tenant
    assert documents.hits == {PATH: 1}


def test_a_redirect_uri_not_in_the_document_gets_no_redirect(admin_client, documents):
    client_id = _serve(documents, _metadata(documents))
    _, challenge = pkce_pair()

    response = authorize(
        admin_client, client_id, challenge, redirect_uri="https://attacker.example/cb"
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert not Grant.objects.exists()


def test_a_metadata_document_client_still_needs_pkce(admin_client, documents):
    client_id = _serve(documents, _metadata(documents))

    response = authorize(
        admin_client, client_id, None, redirect_uri=CALLBACK, code_challenge_method=None
    )

    assert response.status_code == 302
    assert redirect_query(response)["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("metadata", "why"),
    [
        ({"client_id": "https://other.example/oauth/client-metadata.json"}, "another client_id"),
        ({"client_id": None}, "no client_id"),
        ({"token_endpoint_auth_method": "client_secret_post"}, "a confidential client"),
        ({"client_secret": "s3cret"}, "a secret"),
        ({"redirect_uris": []}, "no redirect URI"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "a redirect URI that is not https"),
    ],
)
def test_a_document_that_does_not_describe_its_own_public_client_is_refused(
    admin_client, documents, metadata, why
):
    client_id = _serve(documents, _metadata(documents, **metadata))
    _, challenge = pkce_pair()

    response = authorize(admin_client, client_id, challenge, redirect_uri=CALLBACK)

    assert response.status_code == 400, why
    assert not Application.objects.exists(), why
    assert not McpClient.objects.exists(), why


@pytest.mark.parametrize(
    "document",
    [
        Document(b'{"client_id": "' + b"x" * 6000 + b'"}'),
        Document(b"", status=302, headers={"Location": "https://localhost/elsewhere.json"}),
        Document(b"{not json"),
        Document(b"[]"),
        Document(b"{}", headers={"Content-Type": "text/html"}),
        Document(b"{}", status=500),
    ],
    ids=["over 5 KB", "a redirect", "not JSON", "not an object", "not JSON's type", "a 500"],
)
def test_a_bad_response_is_an_unknown_client_never_a_5xx(admin_client, documents, document):
    documents.documents[PATH] = document
    _, challenge = pkce_pair()

    response = authorize(admin_client, documents.url(PATH), challenge, redirect_uri=CALLBACK)

    assert response.status_code == 400
    assert not Application.objects.exists()


def test_without_the_test_setting_a_loopback_host_is_never_fetched(
    admin_client, documents, settings
):
    # given: the document on loopback, and production's settings
    client_id = _serve(documents, _metadata(documents))
    settings.MCP_CIMD_TEST_HOSTS = []
    _, challenge = pkce_pair()

    # when
    response = authorize(admin_client, client_id, challenge, redirect_uri=CALLBACK)

    # then: refused before any connection
    assert response.status_code == 400
    assert documents.hits == {}
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1/client.json",
        "https://10.0.0.8/client.json",
        "https://192.168.1.1/client.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/client.json",
        "https://[::ffff:169.254.169.254]/client.json",
        "https://100.64.0.1/client.json",
    ],
)
def test_non_public_addresses_are_refused_before_connecting(client_id):
    with pytest.raises(CIMDError, match="non-public"):
        McpMetadataFetcher().fetch(client_id)


@pytest.mark.parametrize(
    "client_id",
    [
        "https://client.example",
        "https://client.example/a/../client.json",
        "https://user:pw@client.example/client.json",
        "https://client.example/client.json#fragment",
    ],
)
def test_client_id_urls_the_draft_forbids_are_refused(client_id):
    with pytest.raises(CIMDError):
        McpMetadataFetcher().fetch(client_id)


def test_an_http_client_id_is_an_unknown_client(admin_client):
    _, challenge = pkce_pair()

    response = authorize(
        admin_client, "http://client.example/client.json", challenge, redirect_uri=CALLBACK
    )

    assert response.status_code == 400
    assert not Application.objects.exists()


def _open_authorization(client, client_id):
    _, challenge = pkce_pair()
    return authorize(client, client_id, challenge, redirect_uri=CALLBACK)


@pytest.mark.parametrize(
    ("cache_control", "fresh_for"),
    [("max-age=600", 600), ("no-store", 300), ("max-age=5", 300), ("max-age=999999", 86400)],
)
def test_the_document_is_cached_per_its_cache_control_within_bounds(
    admin_client, documents, cache_control, fresh_for
):
    # given: a first authorization fetched the document
    client_id = _serve(documents, _metadata(documents), cache_control=cache_control)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _open_authorization(admin_client, client_id)
    assert documents.hits == {PATH: 1}

    # when: asked again just before it goes stale, then just after
    with time_machine.travel(start + timedelta(seconds=fresh_for - 5), tick=False):
        _open_authorization(admin_client, client_id)
    before = documents.hits[PATH]
    with time_machine.travel(start + timedelta(seconds=fresh_for + 5), tick=False):
        _open_authorization(admin_client, client_id)

    # then: fetched again only once stale
    assert before == 1
    assert documents.hits[PATH] == 2


def test_a_changed_document_changes_the_client_once_refetched(admin_client, documents):
    # given: the client as first fetched
    client_id = _serve(documents, _metadata(documents), cache_control="max-age=300")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _open_authorization(admin_client, client_id)

    # when: the document names another callback and goes stale
    _serve(documents, _metadata(documents, redirect_uris=["https://chatgpt.com/connector/oauth/x"]))
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        _open_authorization(admin_client, client_id)

    # then
    assert Application.objects.get().redirect_uris == "https://chatgpt.com/connector/oauth/x"


def _exchange_anonymously(client, client_id):
    """The token endpoint, which anyone may call: a client_id it has not seen is fetched."""
    return client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": "never-issued",
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": "v" * 43,
        },
    )


def test_the_token_endpoint_fetches_an_unseen_document_and_issues_nothing(client, documents):
    client_id = _serve(documents, _metadata(documents))

    response = _exchange_anonymously(client, client_id)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert documents.hits == {PATH: 1}
    assert not AccessToken.objects.exists()


def test_a_fetch_counts_as_a_registration_of_the_address(client, documents, settings):
    # given: one registration an hour, spent by a first document's fetch
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "oauth_register": "1/hour",
        },
    }
    first = _serve(documents, _metadata(documents))
    _exchange_anonymously(client, first)
    other_path = "/other-client.json"
    second = documents.url(other_path)
    documents.documents[other_path] = Document(
        json.dumps(_metadata(documents, client_id=second)).encode()
    )

    # when
    response = _exchange_anonymously(client, second)

    # then: the second document is not fetched, its client is unknown
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert other_path not in documents.hits
    assert list(Application.objects.values_list("client_id", flat=True)) == [first]


def test_a_host_that_never_answers_is_given_up_at_the_deadline(tls_certificates, settings):
    # given: a host that accepts the connection and then says nothing, not even TLS's hello
    settings.MCP_CIMD_TEST_HOSTS = ["localhost"]
    settings.MCP_CIMD_TEST_CA_FILE = str(tls_certificates[0])
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CIMD_FETCH_TIMEOUT_SECONDS": 0.5}
    silent = socket.create_server(("127.0.0.1", 0))
    client_id = f"https://localhost:{silent.getsockname()[1]}/client.json"
    outcome = []

    def fetch():
        try:
            McpMetadataFetcher().fetch(client_id)
        except CIMDError as error:
            outcome.append(error)

    # when
    worker = threading.Thread(target=fetch)
    worker.start()
    worker.join(timeout=30)
    silent.close()

    # then: the fetch ended, refused, instead of holding the request's thread
    assert not worker.is_alive()
    assert len(outcome) == 1
