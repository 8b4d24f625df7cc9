"""Access tokens for /mcp minted the way django-oauth-toolkit stores them (checksum only), and
JSON-RPC calls through Django's test client."""

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value

from claresia.models import TenantMembership
from telemetry.app_connection.services import mcp_client_approve, mcp_client_register

MCP_URL = "/mcp"
# The hub's canonical MCP URL under Django's test client: the audience of its tokens.
HUB_RESOURCE = "http://testserver/mcp"
ACCEPT = "application/json, text/event-stream"


def mcp_token(
    tenant,
    user=None,
    *,
    seconds: int = 3600,
    scope: str | None = None,
    resource: list[str] | None = None,
) -> str:
    """A registered client approved for `tenant`, and one access token of it (the plaintext),
    issued for the hub's /mcp unless another audience (`resource`) is given."""
    application = mcp_client_register(
        client_name="ChatGPT",
        redirect_uris=["https://chatgpt.com/connector_platform_oauth_redirect"],
    )
    mcp_client_approve(client_id=application.client_id, tenant=tenant, user=user)
    plaintext = secrets.token_urlsafe(30)
    token = AccessToken(
        application=application,
        expires=timezone.now() + timedelta(seconds=seconds),
        scope=scope if scope is not None else settings.MCP_SCOPE,
        resource=resource if resource is not None else [HUB_RESOURCE],
    )
    set_token_value(token, plaintext)
    token.save()
    return plaintext


def rpc(client, token: str | None, payload, *, content_type="application/json", **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(MCP_URL, data=data, content_type=content_type, HTTP_ACCEPT=ACCEPT, **headers)


def call(name: str, arguments, request_id: int = 1) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


CHATGPT_REDIRECT_URI = "https://chatgpt.com/connector_platform_oauth_redirect"


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(client, client_id: str, challenge: str, **overrides):
    """GET the authorization endpoint as ChatGPT sends a browser there; an override of None
    leaves the parameter out."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CHATGPT_REDIRECT_URI,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "state-1",
        "scope": settings.MCP_SCOPE,
        "resource": HUB_RESOURCE,
        **overrides,
    }
    params = {key: value for key, value in params.items() if value is not None}
    return client.get(f"/oauth/authorize/?{urlencode(params, doseq=True)}")


def redirect_query(response) -> dict[str, str]:
    """The query the response sends the browser on with: a 302's Location, or the page that
    navigates to the callback after the approval form (hub/mcp_authorize_continue.html)."""
    if response.status_code == 302:
        target = response["Location"]
    else:
        target = response.context["redirect_to"]
    return {key: values[0] for key, values in parse_qs(urlsplit(target).query).items()}


def exchange(client, client_id: str, code: str, verifier: str, **overrides):
    """POST the token endpoint's authorization-code exchange, as ChatGPT does."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CHATGPT_REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": verifier,
        "resource": HUB_RESOURCE,
        **overrides,
    }
    return client.post("/oauth/token/", {k: v for k, v in data.items() if v is not None})


# A plainly valid emit_hub_record body for the tenant's incident-postmortem skill.
RECORD_BODY = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "output": "## Summary\nThe database failed over.",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}


def make_tenant_admin(tenant, *, username: str = "ana", is_staff: bool = True):
    """A user with the admin role on `tenant`: the one who approves a ChatGPT connection."""
    user = get_user_model().objects.create_user(
        username=username, password="x" * 20, is_staff=is_staff
    )
    TenantMembership.objects.create(user=user, tenant=tenant, role="admin")
    return user


def make_approved_client(tenant, admin):
    """A client registered as ChatGPT does, approved for `tenant` by `admin`."""
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_REDIRECT_URI])
    mcp_client_approve(client_id=application.client_id, tenant=tenant, user=admin)
    return application
