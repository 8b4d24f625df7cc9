"""Command Center → Distribution → Plugin: the tenant's git plugin marketplace — its remote, the
last commit, what a publish would change, *Publish plugin* and *Dry run* (queued as a task),
whether the plugin has reached the workspace (`chatgpt-admin-api.md`, "Plugins, the successor"),
and the workspace admin's one-time steps, connecting the Claresia app (`/mcp`) included, with the
tenant's connections to it and where they are revoked."""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from command_center.pages import can_edit, command_center_page, editable_page_tenant, page_tenant
from connectors.plugin_remote import plugin_remote_of
from connectors.services import connector_app_id
from skills.plugin import mcp_server_url
from skills.services.bundles import tenant_context
from skills.services.plugin_arrival import plugin_arrival_check
from skills.services.plugin_publish import (
    plugin_marketplace_state,
    plugin_pending,
    plugin_runs_recent,
)
from skills.tasks import plugin_run_start
from telemetry.hub.models import McpClient
from telemetry.hub.selectors import mcp_connections_of


def _mcp_clients_url(request, tenant) -> str:
    """The admin's list of the tenant's MCP clients (where connections are revoked), for a
    user the admin lets see it; "" otherwise."""
    model_admin = admin.site.get_model_admin(McpClient)
    if not model_admin.has_view_permission(request):
        return ""
    return f"{reverse('admin:telemetry_mcpclient_changelist')}?tenant__id__exact={tenant.pk}"


@command_center_page
@require_GET
def plugin_page(request):
    tenant, tenants = page_tenant(request)
    return render(
        request,
        "command_center/plugin.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "distribution",
            "remote": plugin_remote_of(tenant=tenant),
            "state": plugin_marketplace_state(tenant=tenant),
            "pending": plugin_pending(tenant=tenant),
            "runs": plugin_runs_recent(tenant=tenant),
            "arrival": plugin_arrival_check(tenant=tenant),
            "can_publish": can_edit(request.user, tenant),
            "mcp_url": mcp_server_url(tenant_context(tenant)),
            "app_id": connector_app_id(tenant=tenant),
            "connections": mcp_connections_of(tenant=tenant),
            "mcp_clients_url": _mcp_clients_url(request, tenant),
        },
    )


@command_center_page
@require_POST
def plugin_publish_start(request):
    """*Publish plugin* or *Dry run*: queued, the page shows the result when it lands."""
    tenant = editable_page_tenant(request)
    plugin_run_start(tenant=tenant, dry_run=request.POST.get("dry_run") == "1", user=request.user)
    return HttpResponseRedirect(f"{reverse('command_center:plugin')}?tenant={tenant.slug}")
