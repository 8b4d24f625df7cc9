"""Admin of the hub's MCP connections: each ChatGPT client, the tenant it is bound to, its live
tokens; revoking them cuts the next call (tokens are looked up on every call)."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.formatting import short_datetime, truncated
from claresia.scoping import TenantScopedAdminMixin, tenants_editable_by
from telemetry.app_connection.models import McpClient
from telemetry.app_connection.services import (
    is_chatgpt_callback,
    mcp_client_disconnect,
    mcp_client_label,
    mcp_client_redirect_hosts,
    mcp_tokens_revoke,
)


@admin.register(McpClient)
class McpClientAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    # Who asked (name and where its codes go), for which tenant, approved by whom, and in use:
    # enough to tell two "ChatGPT" registrations apart and to spot one that is not ChatGPT's.
    list_display = [
        "client",
        "redirect_to",
        "tenant",
        "approval",
        "registered",
        "last_use",
        "live_tokens",
    ]
    list_filter = ["tenant"]
    list_select_related = ["tenant", "application", "approved_by"]
    fields = [
        "client",
        "client_id",
        "redirect_uris",
        "tenant",
        "approval",
        "registered",
        "last_use",
        "live_tokens",
    ]
    readonly_fields = fields
    actions = ["revoke_tokens", "disconnect"]

    def get_queryset(self, request):
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                live=Count(
                    "application__accesstoken", filter=Q(application__accesstoken__expires__gt=now)
                )
            )
        )

    @admin.display(description="Client")
    def client(self, obj: McpClient) -> str:
        return truncated(mcp_client_label(obj.application), 50)

    @admin.display(description="Client id")
    def client_id(self, obj: McpClient) -> str:
        return obj.application.client_id

    @admin.display(description="Redirect URIs")
    def redirect_uris(self, obj: McpClient) -> str:
        return "\n".join(obj.application.redirect_uris.split())

    @admin.display(description="Redirects to")
    def redirect_to(self, obj: McpClient) -> str:
        hosts = ", ".join(mcp_client_redirect_hosts(obj.application)) or "—"
        uris = obj.application.redirect_uris.split()
        if uris and all(is_chatgpt_callback(uri) for uri in uris):
            return hosts
        return f"{hosts} (not ChatGPT's callback)"

    @admin.display(description="Approval", ordering="approved_at")
    def approval(self, obj: McpClient) -> str:
        if obj.approved_at is None:
            return "not approved"
        who = obj.approved_by.get_username() if obj.approved_by else "a deleted user"
        when = f"{timezone.localtime(obj.approved_at):%Y-%m-%d %H:%M}"
        if obj.revoked_at is not None:
            return f"revoked {timezone.localtime(obj.revoked_at):%Y-%m-%d %H:%M} ({who})"
        return f"by {who} {when}"

    @admin.display(description="Registered", ordering="created_at")
    def registered(self, obj: McpClient) -> str:
        return short_datetime(obj.created_at)

    @admin.display(description="Last use", ordering="last_used_at")
    def last_use(self, obj: McpClient) -> str:
        return short_datetime(obj.last_used_at) if obj.last_used_at else "never"

    @admin.display(description="Live access tokens", ordering="live")
    def live_tokens(self, obj: McpClient) -> int:
        return obj.live

    def has_add_permission(self, request, *args):
        return False  # ChatGPT registers clients (RFC 7591); tenant admins approve them

    def has_change_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.is_staff and self._can_edit(request, None)

    @admin.action(
        description="Revoke their tokens (a tenant admin must approve again)",
        permissions=["revoke"],
    )
    def revoke_tokens(self, request, queryset):
        clients = queryset.filter(tenant__in=self._editable(request))
        admin_history_log(request, list(clients), "MCP tokens revoked.")
        cut = mcp_tokens_revoke(clients=clients)
        self.message_user(
            request,
            ngettext("%d access token revoked.", "%d access tokens revoked.", cut) % cut,
            messages.SUCCESS,
        )

    @admin.action(description="Disconnect (revoke and delete the client)", permissions=["revoke"])
    def disconnect(self, request, queryset):
        clients = queryset.filter(Q(tenant__in=self._editable(request)) | Q(tenant__isnull=True))
        admin_history_log(request, list(clients), "MCP client disconnected.")
        count = mcp_client_disconnect(clients=clients)
        self.message_user(
            request,
            ngettext("%d client disconnected.", "%d clients disconnected.", count) % count,
            messages.SUCCESS,
        )

    def _editable(self, request):
        return tenants_editable_by(request.user)
