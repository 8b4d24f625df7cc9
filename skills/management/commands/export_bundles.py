from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from skills.targets.custom_gpt.export import skills_export
from skills.targets.plugin.export import MANIFEST_NAME, skills_plugin_export


class Command(BaseCommand):
    help = (
        "Export one Custom GPT ZIP per skill (its steps to build it by hand) and manifest.csv; or "
        "with --target plugin, one Agent Skills (SKILL.md) ZIP per skill, the plugin ZIP and "
        "manifest.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--out", required=True, type=Path, help="output folder")
        parser.add_argument("--skill", action="append", dest="skills", help="skill id (repeat)")
        parser.add_argument("--target", choices=["gpt", "plugin"], default="gpt")

    def handle(self, *args, tenant, out, skills, target, **options):
        tenant = tenant_for_command(tenant)
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a folder")
        if skills:
            known = set(
                tenant.skills.filter(skill_id__in=skills).values_list("skill_id", flat=True)
            )
            missing = sorted(set(skills) - known)
            if missing:
                raise CommandError(f"no skill {', '.join(missing)} for tenant {tenant.slug}")
        if target == "plugin":
            result = skills_plugin_export(tenant=tenant, skill_ids=skills)
            files, summary = result.files(), f"{len(result.skill_zips)} skill folder(s)"
            if result.plugin_zip:
                summary += f", {result.plugin_zip_name}"
            summary += f" and {MANIFEST_NAME}"
        else:
            result = skills_export(tenant=tenant, skill_ids=skills)
            files = {**result.bundles, "manifest.csv": result.manifest}
            summary = f"{len(result.bundles)} bundle(s) and manifest.csv"
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_bytes(content)
        self.stdout.write(f"{summary} written to {out}")
        for skill_id, problems in result.blocked:
            self.stderr.write(f"{skill_id}: blocked: {'; '.join(problems)}")
        if result.blocked:
            raise CommandError(f"{len(result.blocked)} skill(s) blocked and not exported")
