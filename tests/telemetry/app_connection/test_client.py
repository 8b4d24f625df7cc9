"""/mcp with the official `mcp` SDK's own client against the running server: it registers
(RFC 7591), goes through the OAuth authorization code flow with PKCE — the tenant admin's login
and approval driven by the test, as a person would click them — lists the tools and calls
`emit_hub_record`; a connection approved for another tenant writes to that tenant only."""

import html
import json
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx
import httpx2
import pytest
from django.contrib.auth import get_user_model
from mcp.client import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from claresia.models import Tenant, TenantMembership
from telemetry.app_connection.models import McpClient
from telemetry.hub.exceptions import SkillNotFoundError
from telemetry.hub.models import HubRecord
from telemetry.hub.services import hub_record_url
from tests.factories import make_skill
from tests.telemetry.app_connection.https_server import Document

PASSWORD = "a-long-test-passphrase"
REDIRECT_URI = "https://chatgpt.com/connector_platform_oauth_redirect"
BODY = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "output": "## Summary\nThe database failed over.",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}


class MemoryStorage:
    """The SDK's TokenStorage, in memory: what ChatGPT keeps per connection."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def _form_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if name:
            fields[html.unescape(name[1])] = html.unescape(value[1]) if value else ""
    return fields


def _navigates_to(page: str) -> str:
    """Where the page's meta refresh goes."""
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]*)">', page)
    assert refresh, page
    return html.unescape(refresh[1])


def _tenant_choices(page: str) -> dict[str, str]:
    select = re.search(r'<select name="tenant".*?</select>', page, re.S)
    assert select, page
    return {
        html.unescape(label): value
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[0])
    }


class TenantAdmin:
    """The person at the authorization page: logs in to Claresia, picks the tenant, approves;
    the redirect back to ChatGPT (its code and state) goes to the SDK's callback handler."""

    def __init__(self, base_url: str, username: str, tenant: str) -> None:
        self.base_url = base_url
        self.username = username
        self.tenant = tenant
        self.offered: dict[str, str] = {}
        self.result: AuthorizationCodeResult | None = None

    async def approve(self, authorization_url: str) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as browser:
            # not logged in: the authorization page sends the admin to Claresia's login
            response = await browser.get(authorization_url)
            assert response.status_code == 302, response.text
            login_url = urljoin(authorization_url, response.headers["location"])
            login_page = await browser.get(login_url)
            fields = _form_fields(login_page.text)
            response = await browser.post(
                login_url,
                data={**fields, "username": self.username, "password": PASSWORD},
                headers={"Referer": login_url},
            )
            assert response.status_code == 302, response.text
            # back to the authorization page, logged in: the approval form
            consent_url = urljoin(login_url, response.headers["location"])
            consent = await browser.get(consent_url)
            assert consent.status_code == 200, consent.text
            self.offered = _tenant_choices(consent.text)
            fields = _form_fields(consent.text)
            response = await browser.post(
                consent_url,
                data={**fields, "tenant": self.offered[self.tenant], "allow": "on"},
                headers={"Referer": consent_url},
            )
        # the answer to the form navigates on to ChatGPT (no 302: CSP form-action)
        assert response.status_code == 200, response.text
        location = _navigates_to(response.text)
        assert location.startswith(REDIRECT_URI + "?"), location
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        self.result = AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None
        return self.result


class EndUser(TenantAdmin):
    """A member of the workspace at the authorization page, with no Claresia login: for a
    client a tenant admin approved, the page answers at once with the redirect back to ChatGPT."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, username="", tenant="")

    async def approve(self, authorization_url: str) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as browser:
            response = await browser.get(authorization_url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI + "?"), location
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        self.result = AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )


async def _connect_and_emit(
    mcp_url: str, admin: TenantAdmin, storage: MemoryStorage, calls, client_metadata_url=None
):
    """Connect as ChatGPT does (401 → discovery → registration, or its metadata document's URL
    as client_id → authorization → token), then list the tools and make the given tool calls;
    returns (tool names, call results)."""
    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="ChatGPT",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=admin.approve,
        callback_handler=admin.callback,
        client_metadata_url=client_metadata_url,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=20) as http,
        Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as client,
    ):
        tools = await client.list_tools()
        results = [await client.call_tool(name, arguments) for name, arguments in calls]
    return [tool.name for tool in tools.tools], results


@pytest.fixture
def admins(transactional_db, settings):
    # A fast hasher: the login is part of the flow, the hashing is not what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    dainese = Tenant.objects.create(slug="dainese", name="Dainese")
    othercorp = Tenant.objects.create(slug="othercorp", name="Other Corp")
    make_skill(dainese)
    make_skill(othercorp, skill_id="quarterly-review", name="Quarterly Review")
    users = get_user_model().objects
    for username, tenant in [("ana", dainese), ("bob", othercorp)]:
        user = users.create_user(username=username, password=PASSWORD, is_staff=True)
        TenantMembership.objects.create(user=user, tenant=tenant, role="admin")
    return dainese, othercorp


def test_the_sdk_client_connects_approves_and_records(live_server, admins):
    # given
    dainese, _ = admins
    mcp_url = f"{live_server.url}/mcp"
    admin = TenantAdmin(live_server.url, "ana", "Dainese")
    storage = MemoryStorage()

    # when
    names, (result,) = anyio.run(
        _connect_and_emit, mcp_url, admin, storage, [("emit_hub_record", BODY)]
    )

    # then: the client registered, its admin was offered only her tenant and approved it
    assert names == ["emit_hub_record"]
    assert admin.offered == {"Dainese": str(dainese.pk)}
    client = McpClient.objects.get(application__client_id=storage.client_info.client_id)
    assert client.tenant == dainese
    assert client.approved_by.username == "ana"
    assert storage.tokens.refresh_token
    # and the record was written, answering the exact footer
    record = HubRecord.objects.get()
    url = hub_record_url(record)
    assert result.is_error is False
    assert result.structured_content["id"] == record.id
    assert result.structured_content["url"] == url
    footer = f"Claresia · Incident Postmortem · $0.01 · 2.3s · [View record]({url})"
    assert result.structured_content["footer"] == footer
    assert result.content[0].text == footer
    assert record.tenant == dainese


def test_a_connection_approved_for_another_tenant_writes_only_there(live_server, admins):
    # given: a connection approved by othercorp's admin
    dainese, othercorp = admins
    admin = TenantAdmin(live_server.url, "bob", "Other Corp")
    storage = MemoryStorage()

    # when: it calls with dainese's skill, then with its own
    _, (foreign, own) = anyio.run(
        _connect_and_emit,
        f"{live_server.url}/mcp",
        admin,
        storage,
        [
            ("emit_hub_record", BODY),
            ("emit_hub_record", {**BODY, "skill_id": "quarterly-review"}),
        ],
    )

    # then: dainese was not offered, its skill is unknown to the connection, nothing of
    # dainese's was written, and the connection's record is othercorp's
    assert admin.offered == {"Other Corp": str(othercorp.pk)}
    assert foreign.is_error is True
    assert foreign.structured_content == {"detail": str(SkillNotFoundError.default_detail)}
    assert own.is_error is False
    record = HubRecord.objects.get()
    assert record.tenant == othercorp
    assert not HubRecord.objects.filter(tenant=dainese).exists()


def test_an_end_users_connection_to_an_approved_client_needs_no_login(live_server, admins):
    # given: ChatGPT's connection approved by dainese's admin, once
    dainese, _ = admins
    mcp_url = f"{live_server.url}/mcp"
    storage = MemoryStorage()
    anyio.run(
        _connect_and_emit, mcp_url, TenantAdmin(live_server.url, "ana", "Dainese"), storage, []
    )
    client_id = storage.client_info.client_id

    # when: an end user connects the same registered client (new PKCE, no tokens yet)
    storage.tokens = None
    end_user = EndUser(live_server.url)
    _, (result,) = anyio.run(
        _connect_and_emit, mcp_url, end_user, storage, [("emit_hub_record", BODY)]
    )

    # then: no login, no page, the same client, and the record is dainese's
    assert end_user.result is not None
    assert storage.client_info.client_id == client_id
    assert McpClient.objects.count() == 1
    assert result.is_error is False
    assert HubRecord.objects.get().tenant == dainese


def test_the_sdk_client_connects_with_its_metadata_document(live_server, admins, documents):
    # given: the client's metadata document, served over HTTPS at the URL that is its client_id
    dainese, _ = admins
    path = "/chatgpt/client-metadata.json"
    client_id = documents.url(path)
    documents.documents[path] = Document(
        json.dumps(
            {
                "client_id": client_id,
                "client_name": "ChatGPT",
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }
        ).encode()
    )
    admin = TenantAdmin(live_server.url, "ana", "Dainese")
    storage = MemoryStorage()

    # when: the SDK's client connects, offering the document's URL
    names, (result,) = anyio.run(
        _connect_and_emit,
        f"{live_server.url}/mcp",
        admin,
        storage,
        [("emit_hub_record", BODY)],
        client_id,
    )

    # then: no registration; the URL is the client, approved for the admin's tenant, recording
    assert names == ["emit_hub_record"]
    assert storage.client_info.client_id == client_id
    client = McpClient.objects.get()
    assert client.application.client_id == client_id
    assert client.tenant == dainese
    assert result.is_error is False
    assert HubRecord.objects.get().tenant == dainese
    assert documents.hits == {path: 1}
