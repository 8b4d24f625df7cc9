from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from skills.targets.custom_gpt.publish import (
    PlanAction,
    PublishError,
    skills_publish,
    skills_publish_plan,
)


class Command(BaseCommand):
    help = (
        "Publish the tenant's skills as Custom GPTs (create or update by name, upload changed "
        "files, share with archetype groups). --dry-run shows the plan and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--skill", action="append", dest="skills", help="skill id (repeat)")
        parser.add_argument("--dry-run", action="store_true", help="show the plan only")

    def handle(self, *args, tenant, skills, dry_run, **options):
        tenant = tenant_for_command(tenant)
        try:
            if dry_run:
                self._plan(tenant, skills)
                return
            report = skills_publish(tenant=tenant, skill_ids=skills)
        except PublishError as exc:
            raise CommandError(str(exc)) from None
        for outcome in report.outcomes:
            self.stdout.write(outcome.line())
        if report.message:
            self.stdout.write(report.message)
        if not report.ok:
            failed = [o for o in report.outcomes if not o.ok]
            raise CommandError(
                report.message or f"{len(failed)} of {len(report.outcomes)} skill(s) not published"
            )

    def _plan(self, tenant, skills):
        plan = skills_publish_plan(tenant=tenant, skill_ids=skills)
        for item in plan:
            line = f"{item.skill.skill_id}: {item.action}"
            if item.action == PlanAction.UPDATE:
                line += f" ({', '.join(item.changes) or 'no field change'})"
            if item.reason:
                line += f": {item.reason}"
            self.stdout.write(line)
        blocked = [item for item in plan if item.action == PlanAction.BLOCKED]
        if blocked:
            raise CommandError(f"{len(blocked)} of {len(plan)} skill(s) blocked")
