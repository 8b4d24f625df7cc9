from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from claresia.admin_changelist import BoundedChangeListMixin
from claresia.models import ArchetypeGroup, Tenant, TenantMembership
from claresia.scoping import TenantScopedAdminMixin

admin.site.site_header = "Claresia administration"
admin.site.site_title = "Claresia"
admin.site.index_title = "Tenants, connectors, skills and telemetry"
# "View site" (shown as "Command Center" in templates/admin/base_site.html) leads to the tenant
# staff's pages, not back to the admin.
admin.site.site_url = "/command-center/"


class ArchetypeGroupInline(admin.TabularInline):
    model = ArchetypeGroup
    extra = 0
    fields = ["slug", "name", "workspace_group_id"]


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    tenant_path = ""
    list_display = ["slug", "name", "deployment_mode", "hub_base_url", "created_at"]
    list_filter = ["deployment_mode"]
    search_fields = ["slug", "name"]
    inlines = [ArchetypeGroupInline]

    def get_readonly_fields(self, request, obj=None):
        # The slug names published GPTs (claresia-{slug}-…): only Claresia staff change it.
        return [] if request.user.is_superuser else ["slug"]

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ArchetypeGroup)
class ArchetypeGroupAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["slug", "name", "tenant", "workspace_group_id"]
    list_filter = ["tenant"]
    search_fields = ["slug", "name", "workspace_group_id"]
    list_select_related = ["tenant"]


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    """Who belongs to which tenant: Claresia staff (superusers) only."""

    list_display = ["user", "tenant", "role"]
    list_filter = ["tenant", "role"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# The login throttle's records (django-axes; settings.AXES_ENABLE_ADMIN is off so that they are
# registered here, with the changelist that answers a junk date drill-down with ?e=1). Deleting
# an access attempt unlocks that account from that address.
@admin.register(AccessAttempt)
class AccessAttemptAdmin(BoundedChangeListMixin, axes_admin.AccessAttemptAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(BoundedChangeListMixin, axes_admin.AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(BoundedChangeListMixin, axes_admin.AccessFailureLogAdmin):
    pass
