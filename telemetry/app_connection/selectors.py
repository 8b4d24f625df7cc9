"""Reads of the app connection for people: a tenant's approved ChatGPT connections and where
the admin lists them."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import admin
from django.urls import reverse

from telemetry.app_connection.models import McpClient
from telemetry.app_connection.services import is_chatgpt_callback, mcp_client_label


@dataclass(frozen=True)
class McpConnection:
    """One ChatGPT connection of a tenant, as the Command Center lists it."""

    label: str
    chatgpt_callback: bool
    approved_by: str
    approved_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def mcp_connections_of(*, tenant, limit: int = 20) -> list[McpConnection]:
    """The tenant's approved connections of the hub's MCP app, newest first."""
    clients = (
        McpClient.objects.filter(tenant=tenant)
        .select_related("application", "approved_by")
        .order_by("-approved_at", "-pk")[:limit]
    )
    return [
        McpConnection(
            label=mcp_client_label(client.application),
            chatgpt_callback=all(
                is_chatgpt_callback(uri) for uri in client.application.redirect_uris.split()
            ),
            approved_by=client.approved_by.get_username() if client.approved_by else "",
            approved_at=client.approved_at,
            revoked_at=client.revoked_at,
            last_used_at=client.last_used_at,
        )
        for client in clients
    ]


def mcp_clients_admin_url(*, request, tenant) -> str:
    """The admin's list of the tenant's MCP clients (where connections are revoked), for a user
    the admin lets see it; "" otherwise."""
    model_admin = admin.site.get_model_admin(McpClient)
    if not model_admin.has_view_permission(request):
        return ""
    return f"{reverse('admin:telemetry_mcpclient_changelist')}?tenant__id__exact={tenant.pk}"
