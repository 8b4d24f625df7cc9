"""Telemetry admin: ingest (here) and the hub (`telemetry/hub/admin.py`, registered on import)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.formatting import latency_text, name_cell, short_datetime, truncated
from claresia.scoping import TenantScopedAdminMixin, tenants_editable_by
from telemetry.app_connection.admin import McpClientAdmin  # noqa: F401 - registers the MCP clients' admin
from telemetry.forms import AuditExportUploadForm
from telemetry.hub.admin import ReadOnlyAdminMixin  # importing it registers the hub's admins
from telemetry.ingest.services import AuditExportError, telemetry_import_audit_export
from telemetry.ingest.sources.logs_platform.plugin_skills import (
    MappingError,
    plugin_skill_mapping_set,
)
from telemetry.models import PluginSkillMapping, PollCursor, TelemetryEvent
from telemetry.selectors import PollHealth, poll_health_of
from telemetry.tasks import telemetry_poll_start

# ---- ingest (seed Part 4) -------------------------------------------------------------------


@admin.register(PollCursor)
class PollCursorAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    # The columns that fit 1280 px; the advice, the error and the window on hover or on the
    # poll's page.
    list_display = ["short_tenant", "health_label", "last_success", "short_error", "counts", "lag"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "tenant__name"]
    actions = ["poll_now"]
    fields = [
        "tenant",
        "health",
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

    @admin.display(description="Tenant", ordering="tenant__name")
    def short_tenant(self, obj: PollCursor) -> str:
        return name_cell(obj.tenant)

    @admin.display(description="Health")
    def health_label(self, obj: PollCursor) -> str:
        health = poll_health_of(cursor=obj, newest_event_at=obj.newest_event_at, now=timezone.now())
        return format_html('<strong title="{}">{}</strong>', health.advice or "", health.label)

    @admin.display(description="Last success", ordering="last_success_at")
    def last_success(self, obj: PollCursor) -> str:
        return short_datetime(obj.last_success_at)

    @admin.display(description="Last error")
    def short_error(self, obj: PollCursor) -> str:
        return truncated(obj.last_error, 40) or "—"

    @admin.display(description="Stored / skipped")
    def counts(self, obj: PollCursor) -> str:
        return f"{obj.last_stored} / {obj.last_skipped}"

    @admin.display(description="Health")
    def health(self, obj: PollCursor) -> str:
        health = poll_health_of(cursor=obj, newest_event_at=obj.newest_event_at, now=timezone.now())
        colour = {
            PollHealth.State.HEALTHY: "#1a7f37",
            PollHealth.State.FAILING: "#cf222e",
        }.get(health.state, "#9a6700")
        if not health.advice:
            return format_html('<strong style="color:{}">{}</strong>', colour, health.label)
        return format_html(
            '<strong style="color:{}">{}</strong><div style="max-width:28em">{}</div>',
            colour,
            health.label,
            health.advice,
        )

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
        # A poll pages through the audit log: a task, not the request. Viewers may not poll.
        editable = tenants_editable_by(request.user)
        cursors = list(
            queryset.select_related("tenant").filter(tenant__in=editable).order_by("tenant__slug")
        )
        if not cursors:
            self.message_user(request, "Your role on these tenants is read only.", messages.ERROR)
            return
        for cursor in cursors:
            telemetry_poll_start(tenant=cursor.tenant)
        admin_history_log(request, cursors, "Poll queued.")
        self.message_user(
            request,
            ngettext(
                "Poll of %(tenants)s queued; this page shows the result when it lands.",
                "Polls of %(count)d tenants queued (%(tenants)s); this page shows the results "
                "when they land.",
                len(cursors),
            )
            % {"count": len(cursors), "tenants": ", ".join(c.tenant.slug for c in cursors)},
            messages.SUCCESS,
        )


@admin.register(TelemetryEvent)
class TelemetryEventAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    # The columns that fit 1280 px beside the filters; long names cut with the whole on hover
    # (the user is searchable, "unknown skill" is a filter, and every field is on the event's page).
    list_display = [
        "when",
        "short_tenant",
        "event_type",
        "short_skill",
        "cost_usd",
        "latency",
        "short_source",
    ]
    list_filter = ["source", "event_type", "skill_unknown"]
    list_select_related = ["tenant", "skill"]
    search_fields = ["source_event_id", "gpt_name", "conversation_id", "actor_email"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    change_list_template = "admin/telemetry/telemetryevent/change_list.html"

    @admin.display(description="Occurred", ordering="occurred_at")
    def when(self, obj: TelemetryEvent) -> str:
        return short_datetime(obj.occurred_at)

    @admin.display(description="Tenant", ordering="tenant__name")
    def short_tenant(self, obj: TelemetryEvent) -> str:
        return name_cell(obj.tenant)

    @admin.display(description="Skill", ordering="skill_ref")
    def short_skill(self, obj: TelemetryEvent) -> str:
        # The skill id the GPT name carries; the GPT's whole name on hover.
        return truncated(obj.skill_ref, 24, title=obj.gpt_name)

    @admin.display(description="Source", ordering="source")
    def short_source(self, obj: TelemetryEvent) -> str:
        short = {
            TelemetryEvent.Source.COMPLIANCE_API: "Audit log",
            TelemetryEvent.Source.COMPLIANCE_LOGS: "Logs Platform",
            TelemetryEvent.Source.AUDIT_EXPORT: "Export",
        }
        return truncated(short.get(obj.source, obj.source), 16, title=obj.get_source_display())

    @admin.display(description="Latency", ordering="latency_ms")
    def latency(self, obj: TelemetryEvent) -> str:
        return latency_text(obj.latency_ms)

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
                admin_history_log(
                    request,
                    [form.cleaned_data["tenant"]],
                    f"Imported the audit export {upload.name}: {report.summary()}.",
                )
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


@admin.register(PluginSkillMapping)
class PluginSkillMappingAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """What each `skills_used` id stands for (logs_platform/plugin_skills.py): staff confirm
    or correct the skill; everything else is Claresia's. Saving goes through the same service
    as the Command Center's Plugin skills page, so the stored uses follow at once."""

    list_display = ["skills_used_id", "tenant", "skill", "state", "agreeing_conversations"]
    list_filter = ["state"]
    list_select_related = ["tenant", "skill"]
    search_fields = ["skills_used_id"]
    fields = [
        "tenant",
        "skills_used_id",
        "skill",
        "state",
        "agreeing_conversations",
        "first_seen_at",
        "learned_at",
        "confirmed_at",
        "confirmed_by",
    ]
    readonly_fields = [f for f in fields if f != "skill"]

    def has_add_permission(self, request, *args):
        return False  # ids are seen by the poller, never typed

    def has_delete_permission(self, request, obj=None):
        return False  # an id's uses are never dropped

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        editing = getattr(request, "_plugin_skill_mapping", None)
        if db_field.name == "skill" and editing is not None:
            field.queryset = field.queryset.filter(tenant_id=editing.tenant_id)
        return field

    def get_form(self, request, obj=None, **kwargs):
        request._plugin_skill_mapping = obj  # the skill choices are the mapping's tenant's
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            plugin_skill_mapping_set(
                tenant=obj.tenant,
                mapping_id=obj.pk,
                skill_id=obj.skill.skill_id if obj.skill else "",
                user=request.user,
            )
        except MappingError as exc:
            self.message_user(request, f"{exc} Nothing was changed.", messages.ERROR)
