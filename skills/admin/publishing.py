"""Publishing from the skill list: publish and republish (over changes made in ChatGPT) show the
plan on a confirmation page, then queue a publish run and lead to its progress page; the dry run
shows the plan only (Django's `delete_selected` is the model: GET-like first step, POST does it)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from claresia.admin_history import admin_history_log
from skills.admin.selection import one_tenant
from skills.targets.custom_gpt.publish import PublishError, skills_publish_plan
from skills.tasks import publish_run_start


class PublishActionsMixin:
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
        tenant = one_tenant(self, request, queryset, edit=True)
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
        tenant = one_tenant(self, request, queryset, edit=False)
        if tenant is None:
            return None
        page = self._plan_page(
            request, queryset, tenant=tenant, action="dry_run_selected", confirm=False
        )
        for item in page.context_data["plan"] if page is not None else []:
            admin_history_log(request, [item.skill], f"Dry run: the publish plan is {item.action}.")
        return page

    @admin.action(
        description="Republish selected skills over changes made in ChatGPT…",
        permissions=["change"],
    )
    def republish_selected(self, request, queryset):
        return self._publish(request, queryset, action="republish_selected", force=True)
