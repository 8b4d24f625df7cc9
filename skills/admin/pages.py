"""The skill admin's two pages of its own: import (skills come in by upload, never typed in, so
Add leads here) and the read-only Custom GPT bundle of a skill, viewable before publishing."""

import json

from django.contrib import messages
from django.contrib.admin.models import ADDITION, CHANGE
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.scoping import tenants_editable_by
from skills.forms import SkillImportForm
from skills.ir.importers import SkillSourceError, sources_from_upload
from skills.models import Skill
from skills.services.bundles import skill_bundle_build
from skills.services.imports import skills_import
from skills.targets.common import BundleError


class SkillPagesMixin:
    """`import/` and `<pk>/bundle/` under the skill admin, each behind the admin site's login."""

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

    def add_view(self, request, form_url="", extra_context=None):
        # Skills are created by import (an IR, a folder, a ZIP), never typed in: Add leads there.
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:skills_skill_import"))

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
