"""Access tokens for /mcp minted the way django-oauth-toolkit stores them (checksum only), and
JSON-RPC calls through Django's test client."""

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value

from telemetry.hub.mcp_services import mcp_client_approve, mcp_client_register

MCP_URL = "/mcp"
ACCEPT = "application/json, text/event-stream"


def mcp_token(tenant, user=None, *, seconds: int = 3600, scope: str | None = None) -> str:
    """A registered client approved for `tenant`, and one access token of it (the plaintext)."""
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
