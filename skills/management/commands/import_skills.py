from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from skills.ir.importers import SkillSourceError, import_budget, sources_from_path
from skills.services.imports import ImportOutcome, skills_import


class Command(BaseCommand):
    help = (
        "Import Skill IR files (.yaml/.yml/.json), skill folders (skill.yaml or SKILL.md) or .zip "
        "of either; all-or-nothing per skill, every problem listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, tenant, paths, **options):
        tenant = tenant_for_command(tenant)
        sources = []
        # One import, one budget: the paths' skill documents are held in memory together.
        budget = import_budget()
        try:
            for path in paths:
                sources += sources_from_path(path, budget=budget)
        except SkillSourceError as exc:
            raise CommandError(str(exc)) from None
        report = skills_import(tenant=tenant, sources=sources)
        for skill in report.imported:
            updated = skill.outcome == ImportOutcome.UPDATED
            since = f" (was {skill.previous_version})" if updated else ""
            self.stdout.write(f"{skill.skill_id}: {skill.outcome} {skill.version}{since}")
            for warning in skill.warnings:
                self.stdout.write(f"{skill.skill_id}: warning: {warning}")
        for origin, problems in report.refused:
            for problem in problems:
                self.stderr.write(f"{origin}: {problem}")
        if not report.ok:
            raise CommandError(
                f"{len(report.refused)} skill(s) refused, {len(report.imported)} imported"
            )
