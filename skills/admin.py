"""Skills in the admin: status per target, import (upload), publish with a confirmation page
showing the plan, dry run, export (GPT bundles or the plugin), the bundle viewable before
publishing, and drift (check, shown per skill, republish). Every action parses input, calls one
service (or queues its task), reports, and writes what it did in each skill's history."""

import json

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.formatting import short_datetime, truncated
from claresia.scoping import TenantScopedAdminMixin, tenants_editable_by
from skills.downloads import zip_attachment
from skills.forms import SkillImportForm
from skills.ir.importers import SkillSourceError, sources_from_upload
from skills.models import KnowledgeFile, Publication, PublishRun, Skill, SkillVersion
from skills.selectors import skill_warnings
from skills.services.bundles import skill_bundle_build
from skills.services.imports import skills_import
from skills.targets.common import BundleError
from skills.targets.custom_gpt.export import skills_export
from skills.targets.custom_gpt.publish import PublishError, skills_publish_plan
from skills.targets.plugin.export import skills_plugin_export
from skills.tasks import drift_check_start, publish_run_start


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


class KnowledgeFileInline(admin.TabularInline):
    model = KnowledgeFile
    fields = ["path", "media_type", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def drift_text(publication: Publication | None) -> str:
    """What the last drift check found, in one line."""
    if publication is None or not publication.published_sha256:
        return ""
    text = publication.get_drift_status_display()
    details = [f"{d['field']}: {d['detail']}" for d in publication.drift]
    if publication.drift_error:
        details.append(publication.drift_error)
    return text + (f" ({'; '.join(details)})" if details else "")


class PublicationInline(admin.TabularInline):
    model = Publication
    fields = [
        "target",
        "status",
        "gpt_id",
        "published_sha256",
        "published_at",
        "error",
        "drift_summary",
        "drift_checked_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Drift")
    def drift_summary(self, obj: Publication) -> str:
        return drift_text(obj) or "—"


class SkillVersionInline(admin.TabularInline):
    model = SkillVersion
    fields = ["version", "imported_at", "published_bundle_sha256", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "version history"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Skill)
class SkillAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
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

    def add_view(self, request, form_url="", extra_context=None):
        # Skills are created by import (an IR, a folder, a ZIP), never typed in: Add leads there.
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:skills_skill_import"))

    # ---- custom views ---------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="skills_skill_import",
            ),
            path(
                "<int:pk>/bundle/",
                self.admin_site.admin_view(self.bundle_view),
                name="skills_skill_bundle",
            ),
            *super().get_urls(),
        ]

    def bundle_view(self, request, pk: int):
        skill = get_object_or_404(self.get_queryset(request), pk=pk)
        try:
            bundle = skill_bundle_build(skill=skill)
            problems, text = [], json.dumps(bundle.config, indent=2, ensure_ascii=False)
        except BundleError as exc:
            bundle, problems, text = None, exc.problems, ""
        context = {
            **self.admin_site.each_context(request),
            "title": f"Bundle of {skill.gpt_name}",
            "opts": self.model._meta,
            "skill": skill,
            "bundle": bundle,
            "problems": problems,
            "config_json": text,
        }
        return TemplateResponse(request, "admin/skills/skill/bundle.html", context)

    def import_view(self, request):
        tenants = tenants_editable_by(request.user)
        if not (request.user.is_staff and tenants.exists()):
            raise PermissionDenied
        # A user with one tenant finds it chosen.
        initial = {"tenant": tenants.get()} if tenants.count() == 1 else {}
        form = SkillImportForm(
            request.POST or None, request.FILES or None, tenants=tenants, initial=initial
        )
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                sources = sources_from_upload(upload.name, upload.read())
            except SkillSourceError as exc:
                form.add_error("file", str(exc))  # shown under the file it is about
            else:
                report = skills_import(tenant=form.cleaned_data["tenant"], sources=sources)
                self._log_import(request, form.cleaned_data["tenant"], upload.name, report)
                if report.imported:
                    self.message_user(
                        request,
                        ngettext("%d skill imported.", "%d skills imported.", len(report.imported))
                        % len(report.imported),
                        messages.SUCCESS,
                    )
                for skill in report.imported:
                    for warning in skill.warnings:
                        self.message_user(
                            request, f"Skill {skill.skill_id}: {warning}", messages.WARNING
                        )
                if report.ok:
                    return HttpResponseRedirect(reverse("admin:skills_skill_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import skills",
            "opts": self.model._meta,
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/skills/skill/import.html", context)

    def _log_import(self, request, tenant, filename: str, report) -> None:
        """Each skill the import created or updated gets it in its history (unchanged: none)."""
        touched = {item.skill_id: item for item in report.imported if item.outcome != "unchanged"}
        skills = Skill.objects.filter(tenant=tenant, skill_id__in=touched).select_related("tenant")
        for skill in skills:
            item = touched[skill.skill_id]
            if item.outcome == "created":
                message, flag = f"Imported version {item.version} from {filename}.", ADDITION
            else:
                message = (
                    f"Imported version {item.version} (was {item.previous_version}) "
                    f"from {filename}."
                )
                flag = CHANGE
            admin_history_log(request, [skill], message, flag=flag)

    # ---- actions --------------------------------------------------------------------------

    def _one_tenant(self, request, queryset, *, edit: bool):
        tenants = {skill.tenant for skill in queryset}
        if len(tenants) != 1:
            self.message_user(request, "Select skills of one tenant at a time.", messages.ERROR)
            return None
        (tenant,) = tenants
        if edit and not tenants_editable_by(request.user).filter(pk=tenant.pk).exists():
            self.message_user(request, "Your role on this tenant is read only.", messages.ERROR)
            return None
        return tenant

    def _plan_page(
        self, request, queryset, *, tenant, action: str, confirm: bool, force: bool = False
    ):
        skill_ids = sorted(skill.skill_id for skill in queryset)
        try:
            plan = skills_publish_plan(tenant=tenant, skill_ids=skill_ids, force=force)
        except PublishError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        if force:
            title = "Republish to ChatGPT Enterprise over the changes made in ChatGPT"
        elif confirm:
            title = "Publish to ChatGPT Enterprise"
        else:
            title = "Publish plan (dry run)"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "tenant": tenant,
            "plan": plan,
            "confirm": confirm,
            "force": force,
            "action": action,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "writes": sum(item.action.writes for item in plan),
        }
        return TemplateResponse(request, "admin/skills/skill/publish_plan.html", context)

    def _publish(self, request, queryset, *, action: str, force: bool):
        """Publish (or, with `force`, republish): the plan first, the queued run once confirmed."""
        tenant = self._one_tenant(request, queryset, edit=True)
        if tenant is None:
            return None
        if request.POST.get("confirm") != "yes":
            return self._plan_page(
                request, queryset, tenant=tenant, action=action, confirm=True, force=force
            )
        skill_ids = sorted(skill.skill_id for skill in queryset)
        try:
            run = publish_run_start(
                tenant=tenant, skill_ids=skill_ids, user=request.user, force=force
            )
        except PublishError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        verb = "Republish over the changes made in ChatGPT" if force else "Publish"
        admin_history_log(request, queryset, f"{verb} queued as publish run {run.pk}.")
        return HttpResponseRedirect(reverse("command_center:publish_run", args=[run.pk]))

    @admin.action(description="Publish selected skills to ChatGPT…", permissions=["change"])
    def publish_selected(self, request, queryset):
        return self._publish(request, queryset, action="publish_selected", force=False)

    @admin.action(description="Dry run: show the publish plan")
    def dry_run_selected(self, request, queryset):
        tenant = self._one_tenant(request, queryset, edit=False)
        if tenant is None:
            return None
        page = self._plan_page(
            request, queryset, tenant=tenant, action="dry_run_selected", confirm=False
        )
        for item in page.context_data["plan"] if page is not None else []:
            admin_history_log(request, [item.skill], f"Dry run: the publish plan is {item.action}.")
        return page

    def _export_download(self, request, queryset, export, *, what: str):
        """Run `export` for the selected skills; warn about blocked ones; the ZIP, if any."""
        tenant = self._one_tenant(request, queryset, edit=False)
        if tenant is None:
            return None
        result = export(tenant=tenant, skill_ids=[s.skill_id for s in queryset])
        for skill_id, problems in result.blocked:
            self.message_user(
                request, f"{skill_id} not exported: {'; '.join(problems)}", messages.WARNING
            )
        blocked = {skill_id for skill_id, _ in result.blocked}
        admin_history_log(
            request, [s for s in queryset if s.skill_id not in blocked], f"Exported {what}."
        )
        return zip_attachment(result) if result.exported else None

    @admin.action(description="Export selected skills (ZIP + manifest.csv)")
    def export_selected(self, request, queryset):
        return self._export_download(
            request, queryset, skills_export, what="as a Custom GPT bundle (ZIP + manifest.csv)"
        )

    @admin.action(description="Export selected skills as a ChatGPT plugin (SKILL.md)")
    def export_plugin_selected(self, request, queryset):
        return self._export_download(
            request, queryset, skills_plugin_export, what="in a ChatGPT plugin (SKILL.md)"
        )

    @admin.action(
        description="Check drift: compare the live GPTs with their last publish",
        permissions=["change"],  # it queues work and writes what it finds: not for viewers
    )
    def check_drift_selected(self, request, queryset):
        # The task reads back every published GPT of the tenant: one call per GPT, too slow
        # for a request, and the selected skills are among them.
        tenant = self._one_tenant(request, queryset, edit=True)
        if tenant is None:
            return None
        drift_check_start(tenant=tenant)
        admin_history_log(request, queryset, "Drift check queued.")
        self.message_user(
            request,
            f"Drift check of {tenant.name}'s published GPTs queued; the Drift column shows "
            "the result when it lands.",
            messages.SUCCESS,
        )
        return None

    @admin.action(
        description="Republish selected skills over changes made in ChatGPT…",
        permissions=["change"],
    )
    def republish_selected(self, request, queryset):
        return self._publish(request, queryset, action="republish_selected", force=True)


@admin.register(PublishRun)
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
