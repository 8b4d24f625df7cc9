"""Command Center → Distribution → Plugin: the tenant's git plugin marketplace — its remote, the
last commit, what a publish would change, *Publish plugin* and *Dry run* (queued as a task),
whether the plugin has reached the workspace (`chatgpt-admin-api.md`, "Plugins, the successor"),
and the workspace admin's one-time steps, connecting the Claresia app (`/mcp`) included, with the
tenant's connections to it and where they are revoked."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from claresia.admin_history import admin_history_log
from command_center.pages import can_edit, command_center_page, editable_page_tenant, page_tenant
from connectors.plugin_remote import plugin_remote_configure, plugin_remote_of
from connectors.selectors import connector_app_id
from skills.services.bundles import tenant_context
from skills.services.workspace_read import plugin_arrival_stored, workspace_read_of
from skills.targets.plugin.build import mcp_server_url
from skills.targets.plugin.publish import (
    plugin_marketplace_read,
    plugin_pending,
    plugin_runs_recent,
)
from skills.tasks import plugin_run_start, workspace_read_start
from telemetry.app_connection.selectors import mcp_clients_admin_url, mcp_connections_of


@command_center_page
@require_GET
def plugin_page(request):
    tenant, tenants = page_tenant(request)
    return _render_plugin_page(request, tenant, tenants)


def _render_plugin_page(request, tenant, tenants, *, remote_form=None, status=200):
    remote = plugin_remote_of(tenant=tenant)
    return render(
        request,
        "command_center/plugin.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "distribution",
            "remote": remote,
            "remote_form": remote_form or {"url": remote.url if remote else "", "errors": {}},
            "state": plugin_marketplace_read(tenant=tenant),
            "pending": plugin_pending(tenant=tenant),
            "runs": plugin_runs_recent(tenant=tenant),
            # As last read by the queued workspace read: the page never waits on OpenAI.
            "arrival": plugin_arrival_stored(tenant=tenant),
            "workspace_read": workspace_read_of(tenant=tenant),
            "can_publish": can_edit(request.user, tenant),
            "mcp_url": mcp_server_url(tenant_context(tenant)),
            "app_id": connector_app_id(tenant=tenant),
            "connections": mcp_connections_of(tenant=tenant),
            "mcp_clients_url": mcp_clients_admin_url(request=request, tenant=tenant),
        },
        status=status,
    )


@command_center_page
@require_POST
def plugin_remote_save(request):
    """The marketplace's git remote, set by a tenant admin (or Claresia staff): the URL, and a
    token that may push (blank keeps the stored one). A refusal re-shows the form with what
    was typed, the pasted token included (a git host shows a new token once)."""
    tenant = editable_page_tenant(request)
    url = request.POST.get("url", "")
    token = request.POST.get("token", "")
    try:
        info = plugin_remote_configure(tenant=tenant, url=url, token=token.strip() or None)
    except ValidationError as exc:
        _, tenants = page_tenant(request)
        form = {"url": url, "token": token, "errors": exc.message_dict}
        return _render_plugin_page(request, tenant, tenants, remote_form=form, status=400)
    admin_history_log(request, [tenant], f"Plugin marketplace remote set to {info.url}")
    messages.success(request, f"Remote saved: {info.url} (token {info.token_masked}).")
    return HttpResponseRedirect(f"{reverse('command_center:plugin')}?tenant={tenant.slug}")


@command_center_page
@require_POST
def plugin_publish_start(request):
    """*Publish plugin* or *Dry run*: queued, the page shows the result when it lands."""
    tenant = editable_page_tenant(request)
    plugin_run_start(tenant=tenant, dry_run=request.POST.get("dry_run") == "1", user=request.user)
    return HttpResponseRedirect(f"{reverse('command_center:plugin')}?tenant={tenant.slug}")


@command_center_page
@require_POST
def plugin_arrival_check_start(request):
    """*Check now*: queue a read of the workspace; the page shows it when it lands."""
    tenant = editable_page_tenant(request)
    workspace_read_start(tenant=tenant)
    return HttpResponseRedirect(f"{reverse('command_center:plugin')}?tenant={tenant.slug}#arrival")
