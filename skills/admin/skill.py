"""The skill's list and change pages: a row per skill with its ChatGPT status, drift and limits,
and the change page showing the IR read only (a skill changes by importing its IR again)."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from claresia.formatting import short_datetime, truncated
from claresia.scoping import TenantScopedAdminMixin
from skills.admin.drift import DriftActionsMixin
from skills.admin.exports import ExportActionsMixin
from skills.admin.inlines import (
    KnowledgeFileInline,
    PublicationInline,
    SkillVersionInline,
    drift_text,
)
from skills.admin.pages import SkillPagesMixin
from skills.admin.publishing import PublishActionsMixin
from skills.models import Publication, Skill
from skills.selectors import skill_warnings


class PublicationStatusFilter(admin.SimpleListFilter):
    title = "ChatGPT status"
    parameter_name = "gpt_status"

    def lookups(self, request, model_admin):
        return [*Publication.Status.choices, ("never", "Never published")]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.exclude(publications__target=Publication.Target.OPENAI_GPT)
        if self.value():
            return queryset.filter(
                publications__target=Publication.Target.OPENAI_GPT,
                publications__status=self.value(),
            )
        return queryset


class SkillAdmin(
    SkillPagesMixin,
    PublishActionsMixin,
    ExportActionsMixin,
    DriftActionsMixin,
    TenantScopedAdminMixin,
    admin.ModelAdmin,
):
    """The skill list (status per target, drift, limits) and the change page (the IR, read
    only); its pages and actions come from the mixins, one module per role."""

    # Fits 1280 px: long names and ids are cut (whole on hover), the warnings are a count.
    list_display = [
        "skill",
        "tenant_name",
        "version",
        "gpt_status",
        "drift",
        "published",
        "limits_flag",
    ]
    list_filter = ["tenant", PublicationStatusFilter]
    search_fields = ["skill_id", "name", "description"]
    list_select_related = ["tenant"]
    # The IR is the one source of truth for a skill (bundle, footer, plugin): name and
    # description are shown here, changed only by editing the IR and importing it again.
    readonly_fields = [
        "tenant",
        "skill_id",
        "name_from_ir",
        "version",
        "description_from_ir",
        "ir_pretty",
        "bundle_link",
        "updated_at",
        "drift_detail",
        "limits",
    ]
    fields = [
        "tenant",
        "skill_id",
        "name_from_ir",
        "version",
        "description_from_ir",
        "limits",
        "drift_detail",
        "bundle_link",
        "ir_pretty",
    ]
    inlines = [PublicationInline, KnowledgeFileInline, SkillVersionInline]
    actions = [
        "publish_selected",
        "dry_run_selected",
        "export_selected",
        "export_plugin_selected",
        "check_drift_selected",
        "republish_selected",
    ]
    change_list_template = "admin/skills/skill/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("publications")

    def _publication(self, obj: Skill) -> Publication | None:
        return next(
            (p for p in obj.publications.all() if p.target == Publication.Target.OPENAI_GPT), None
        )

    @admin.display(description="ChatGPT")
    def gpt_status(self, obj: Skill) -> str:
        publication = self._publication(obj)
        if publication is None:
            return format_html('<span style="color:#6e7781">{}</span>', "never published")
        colour = {
            Publication.Status.PUBLISHED: "#1a7f37",
            Publication.Status.FAILED: "#cf222e",
        }.get(publication.status, "#9a6700")
        return format_html(
            '<strong style="color:{}" title="{}">{}</strong>',
            colour,
            publication.error,
            publication.get_status_display(),
        )

    @admin.display(description="Drift")
    def drift(self, obj: Skill) -> str:
        publication = self._publication(obj)
        text = drift_text(publication)
        if not text:
            return format_html('<span style="color:#6e7781">{}</span>', "—")
        colour = "#cf222e" if publication.has_drifted else "#1a7f37"
        if publication.drift_status in (
            Publication.DriftStatus.NOT_CHECKED,
            Publication.DriftStatus.ERROR,
        ):
            colour = "#9a6700"
        return format_html(
            '<span style="color:{}" title="{}">{}</span>',
            colour,
            text,
            publication.get_drift_status_display(),
        )

    @admin.display(description="Drift in ChatGPT")
    def drift_detail(self, obj: Skill) -> str:
        publication = self._publication(obj)
        if publication is None or not publication.published_sha256:
            return "not published"
        checked = publication.drift_checked_at
        when = f", checked {checked:%Y-%m-%d %H:%M} UTC" if checked else ""
        return drift_text(publication) + when

    @admin.display(description="Platform limits")
    def limits(self, obj: Skill) -> str:
        warnings = skill_warnings(obj)
        if not warnings:
            return format_html('<span style="color:#6e7781">{}</span>', "within")
        return format_html_join(
            "", '<div style="color:#9a6700">⚠ {}</div>', ((w,) for w in warnings)
        )

    @admin.display(description="Limits")
    def limits_flag(self, obj: Skill) -> str:
        warnings = skill_warnings(obj)
        if not warnings:
            return format_html('<span style="color:#6e7781" title="{}">✓</span>', "Within limits")
        return format_html(
            '<span style="color:#9a6700;white-space:nowrap" title="{}">⚠ {}</span>',
            "\n".join(warnings),
            len(warnings),
        )

    @admin.display(description="Skill", ordering="skill_id")
    def skill(self, obj: Skill) -> str:
        return truncated(obj.skill_id, 28, title=f"{obj.name} ({obj.skill_id})")

    @admin.display(description="Tenant", ordering="tenant__name")
    def tenant_name(self, obj: Skill) -> str:
        return truncated(obj.tenant.name, 20)

    @admin.display(description="Published")
    def published(self, obj: Skill) -> str:
        publication = self._publication(obj)
        return short_datetime(publication.published_at if publication else None)

    @admin.display(description="Name")
    def name_from_ir(self, obj: Skill) -> str:
        return format_html(
            '{}<div class="help">{}</div>',
            obj.name,
            "To change it, edit the skill's IR and import it again: the bundle, the footer "
            "and the plugin all read the name from the IR.",
        )

    @admin.display(description="Description")
    def description_from_ir(self, obj: Skill) -> str:
        return format_html(
            '{}<div class="help">{}</div>',
            obj.description,
            "Edit the skill's IR and import it again.",
        )

    @admin.display(description="IR")
    def ir_pretty(self, obj: Skill) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.ir, indent=2, ensure_ascii=False))

    @admin.display(description="Bundle")
    def bundle_link(self, obj: Skill) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:skills_skill_bundle", args=[obj.pk])
        return format_html('<a href="{}">View the Custom GPT bundle (read only)</a>', url)
