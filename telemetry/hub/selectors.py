"""Reads of hub records and the app's connections for people (the API's reads are in services,
keyed by token)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.urls import reverse

from claresia.scoping import scope_to_user
from telemetry.hub.mcp_services import is_chatgpt_callback, mcp_client_label
from telemetry.hub.models import HubRecord, McpClient, is_record_id
from telemetry.models import TelemetryEvent


def hub_record_for_user(*, user: AbstractBaseUser, record_id: str) -> HubRecord | None:
    """The record if `user` is staff of its tenant or a superuser, else None."""
    if not is_record_id(record_id) or not (user.is_active and (user.is_staff or user.is_superuser)):
        return None
    records = scope_to_user(HubRecord.objects.select_related("tenant", "skill"), user)
    return records.filter(pk=record_id).first()


def hub_record_by_id(*, record_id: str) -> HubRecord | None:
    """The record with this id, whoever asks: only for a caller that proved it may see it (the
    footer's signed link, telemetry/hub/links.py)."""
    if not is_record_id(record_id):
        return None
    return HubRecord.objects.select_related("tenant", "skill").filter(pk=record_id).first()


def telemetry_events_for_record(*, record: HubRecord):
    """The audit events of the record's conversation, same tenant only, oldest first."""
    if not record.openai_conversation_id:
        return TelemetryEvent.objects.none()
    return TelemetryEvent.objects.filter(
        tenant_id=record.tenant_id, conversation_id=record.openai_conversation_id
    ).order_by("occurred_at", "id")


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
