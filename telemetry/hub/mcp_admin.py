"""Admin of the hub's MCP connections: each ChatGPT client, the tenant it is bound to, its live
tokens; revoking them cuts the next call (tokens are looked up on every call)."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.scoping import TenantScopedAdminMixin, tenants_editable_by
from telemetry.hub.mcp_services import mcp_client_disconnect, mcp_tokens_revoke
from telemetry.hub.models import McpClient


@admin.register(McpClient)
class McpClientAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["client", "tenant", "approved_by", "approved_at", "live_tokens", "created_at"]
    list_select_related = ["tenant", "application", "approved_by"]
    fields = ["client", "tenant", "approved_by", "approved_at", "live_tokens", "created_at"]
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
        return f"{obj.application.name or 'unnamed'} ({obj.application.client_id[:8]}…)"

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
