"""Publish runs in the admin: read only, each linking to its progress page in the Command Center."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from claresia.scoping import TenantScopedAdminMixin
from skills.models import PublishRun


class PublishRunAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "tenant", "status", "total", "done", "failed", "remaining", "created_at"]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant", "started_by"]
    readonly_fields = [
        "tenant",
        "started_by",
        "status",
        "skill_ids",
        "total",
        "done",
        "failed",
        "results",
        "error",
        "created_at",
        "finished_at",
        "progress_link",
    ]

    @admin.display(description="Progress page")
    def progress_link(self, obj: PublishRun) -> str:
        url = reverse("command_center:publish_run", args=[obj.pk])
        return format_html('<a href="{}">Open the progress page</a>', url)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
