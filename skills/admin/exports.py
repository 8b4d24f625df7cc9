"""Exports from the skill list: the Custom GPT bundles (ZIP + manifest.csv) for a person to build,
or the ChatGPT plugin (SKILL.md folders); each downloads a ZIP and names the skills it blocked."""

from django.contrib import admin, messages

from claresia.admin_history import admin_history_log
from skills.admin.selection import one_tenant
from skills.downloads import zip_attachment
from skills.targets.custom_gpt.export import skills_export
from skills.targets.plugin.export import skills_plugin_export


class ExportActionsMixin:
    def _export_download(self, request, queryset, export, *, what: str):
        """Run `export` for the selected skills; warn about blocked ones; the ZIP, if any."""
        tenant = one_tenant(self, request, queryset, edit=False)
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
