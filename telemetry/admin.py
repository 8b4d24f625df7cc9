"""Telemetry admin: ingest (here) and the hub (`telemetry/hub/admin.py`, registered on import)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import ngettext

from claresia.scoping import TenantScopedAdminMixin, tenants_editable_by
from telemetry.forms import AuditExportUploadForm
from telemetry.hub.admin import ReadOnlyAdminMixin  # importing it registers the hub's admins
from telemetry.ingest.services import (
    AuditExportError,
    telemetry_import_audit_export,
    telemetry_poll_tenant,
)
from telemetry.models import PollCursor, TelemetryEvent

# ---- ingest (seed Part 4) -------------------------------------------------------------------


@admin.register(PollCursor)
class PollCursorAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "tenant",
        "last_success_at",
        "last_error",
        "last_stored",
        "last_skipped",
        "lag",
        "cursor_at",
        "window_in_progress",
    ]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "tenant__name"]
    actions = ["poll_now"]
    fields = [
        "tenant",
        "last_poll_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "last_stored",
        "last_skipped",
        "lag",
        "newest_event_at",
        "cursor_at",
        "window_start",
        "window_end",
        "window_resume_after",
    ]
    readonly_fields = fields

    @admin.display(description="Lag")
    def lag(self, obj: PollCursor) -> str:
        # now − newest event time: how far the poll (seed Part 4) is behind.
        if obj.newest_event_at is None:
            return "no event yet"
        return timesince(obj.newest_event_at, timezone.now())

    @admin.display(description="Window in progress", boolean=True)
    def window_in_progress(self, obj: PollCursor) -> bool:
        return obj.window_start is not None

    def has_poll_permission(self, request) -> bool:
        return request.user.is_staff and tenants_editable_by(request.user).exists()

    @admin.action(description="Poll now", permissions=["poll"])
    def poll_now(self, request, queryset):
        editable = tenants_editable_by(request.user)
        for cursor in queryset.select_related("tenant").filter(tenant__in=editable):
            outcome = telemetry_poll_tenant(tenant=cursor.tenant)
            level = messages.ERROR if outcome.status == "failed" else messages.SUCCESS
            self.message_user(request, str(outcome), level)


@admin.register(TelemetryEvent)
class TelemetryEventAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "tenant",
        "gpt_name",
        "event_type",
        "skill",
        "skill_unknown",
        "actor_email",
        "model",
        "cost_usd",
        "latency_ms",
        "source",
    ]
    list_filter = ["source", "event_type", "skill_unknown"]
    list_select_related = ["tenant", "skill"]
    search_fields = ["source_event_id", "gpt_name", "conversation_id", "actor_email"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    change_list_template = "admin/telemetry/telemetryevent/change_list.html"

    def get_urls(self):
        return [
            path(
                "import-audit-export/",
                self.admin_site.admin_view(self.import_view),
                name="telemetry_telemetryevent_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        tenants = tenants_editable_by(request.user)
        if not tenants.exists():
            raise PermissionDenied
        form = AuditExportUploadForm(
            request.POST or None, request.FILES or None, tenants=tenants.order_by("slug")
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = telemetry_import_audit_export(
                    tenant=form.cleaned_data["tenant"], stream=upload, filename=upload.name
                )
            except AuditExportError as exc:
                form.add_error("file", f"{exc}; nothing imported.")
            else:
                self._report_import(request, upload.name, report)
                return HttpResponseRedirect(reverse("admin:telemetry_telemetryevent_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a per-user audit export",
            "form": form,
        }
        return TemplateResponse(
            request, "admin/telemetry/telemetryevent/import_audit_export.html", context
        )

    def _report_import(self, request, filename: str, report) -> None:
        self.message_user(request, f"{filename}: {report.summary()}.", messages.SUCCESS)
        for line, message in report.errors[:20]:
            self.message_user(request, f"{filename}, line {line}: {message}", messages.WARNING)
        hidden = report.error_count - min(len(report.errors), 20)
        if hidden > 0:
            self.message_user(
                request,
                ngettext(
                    "%d more malformed line not shown.",
                    "%d more malformed lines not shown.",
                    hidden,
                )
                % hidden,
                messages.WARNING,
            )
