"""The plugin target's export (`operations.md` → `export_bundles --target plugin`): one Agent
Skills ZIP per skill (`<skill-id>/SKILL.md` + `references/`), the tenant's plugin ZIP
(`.codex-plugin/plugin.json` + `skills/`), and `manifest.json` saying per skill what the target
cannot carry. Deterministic ZIPs, as for GPT bundles; no secret is written."""

import json
from dataclasses import dataclass, field

from claresia.models import Tenant
from skills.models import KnowledgeFile, Skill
from skills.services.bundles import tenant_context
from skills.targets.common import BundleError
from skills.targets.plugin.build import (
    AgentSkill,
    agent_skill,
    plugin_folder,
    plugin_json,
    plugin_name,
)
from skills.zipfiles import deterministic_zip

MANIFEST_NAME = "manifest.json"


@dataclass
class PluginExportResult:
    tenant_slug: str
    skill_zips: dict[str, bytes] = field(default_factory=dict)  # "<skill-id>.zip" → ZIP
    plugin_zip_name: str = ""
    plugin_zip: bytes = b""
    manifest: bytes = b""
    blocked: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def exported(self) -> bool:
        """Whether at least one skill made it into the archive."""
        return bool(self.skill_zips)

    @property
    def archive_name(self) -> str:
        return f"claresia-{self.tenant_slug}-plugin-export.zip"

    def files(self) -> dict[str, bytes]:
        """What the export writes, by file name (the command's output folder)."""
        files = dict(self.skill_zips)
        if self.plugin_zip:
            files[self.plugin_zip_name] = self.plugin_zip
        files[MANIFEST_NAME] = self.manifest
        return files

    def archive(self) -> bytes:
        """Everything in one ZIP, as the Distribution page downloads it."""
        return deterministic_zip(self.files())


def skills_plugin_export(
    *, tenant: Tenant, skill_ids: list[str] | None = None
) -> PluginExportResult:
    """Agent Skills folders and the plugin of the tenant's skills (all, or `skill_ids`); skills
    that cannot be exported are listed as blocked, with every problem."""
    queryset = Skill.objects.filter(tenant=tenant).order_by("skill_id")
    if skill_ids:
        queryset = queryset.filter(skill_id__in=skill_ids)
    skills = list(queryset)
    contents: dict[int, dict[str, bytes]] = {skill.pk: {} for skill in skills}
    rows = KnowledgeFile.objects.filter(skill__in=skills).values_list("skill_id", "path", "content")
    for skill_pk, path, content in rows:
        contents[skill_pk][path] = bytes(content)
    context = tenant_context(tenant)
    result = PluginExportResult(tenant_slug=tenant.slug)
    exported: list[AgentSkill] = []
    irs = {skill.skill_id: skill.ir for skill in skills}
    for skill in skills:
        try:
            folder = agent_skill(skill.ir, files=contents[skill.pk])
        except BundleError as exc:
            result.blocked.append((skill.skill_id, exc.problems))
            continue
        exported.append(folder)
        result.skill_zips[f"{skill.skill_id}.zip"] = deterministic_zip(
            {f"{skill.skill_id}/{path}": data for path, data in folder.files.items()}
        )
    plugin = plugin_json(exported, irs, tenant=context)
    if exported:
        result.plugin_zip_name = f"{plugin_name(context)}.zip"
        result.plugin_zip = deterministic_zip(
            {
                f"{plugin['name']}/{path}": data
                for path, data in plugin_folder(exported, irs, tenant=context).items()
            }
        )
    manifest = {
        "target": "plugin",
        "tenant": tenant.slug,
        "hub_base": context.hub_base,
        "plugin": {
            "name": plugin["name"],
            "version": plugin["version"],
            "zip_file": result.plugin_zip_name,
        },
        "skills": [
            {
                "skill_id": folder.skill_id,
                "name": irs[folder.skill_id]["name"],
                "version": irs[folder.skill_id]["version"],
                "folder": folder.skill_id,
                "zip_file": f"{folder.skill_id}.zip",
                "sha256": folder.sha256,
                "not_carried": list(folder.not_carried),
            }
            for folder in exported
        ],
        "blocked": [{"skill_id": sid, "problems": problems} for sid, problems in result.blocked],
    }
    result.manifest = (
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()
    return result
