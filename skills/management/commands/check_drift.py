from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from connectors.openai.errors import OpenAIError
from connectors.selectors import connector_workspace_id
from connectors.services import ConnectorUnavailable
from skills.targets.custom_gpt.drift import DriftError, skills_drift_check
from skills.targets.custom_gpt.workspace_drift import skills_workspace_check


class Command(BaseCommand):
    help = (
        "Read the tenant's GPTs back: the real GPT inventory when a ChatGPT workspace id is set "
        "(else the seed's modelled GPT objects); one line per skill, exit non-zero when any "
        "skill is not in sync."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args, tenant, **options):
        owner = tenant_for_command(tenant)
        if connector_workspace_id(tenant=owner):
            try:
                lines = skills_workspace_check(tenant=owner)
            except (ConnectorUnavailable, OpenAIError) as exc:
                raise CommandError(exc.user_message) from None
            for line in lines:
                self.stdout.write(line.line())
            behind = [line.skill_id for line in lines if not line.in_sync]
        else:
            try:
                report = skills_drift_check(tenant=owner)
            except DriftError as exc:
                raise CommandError(str(exc)) from None
            for outcome in report.outcomes:
                self.stdout.write(outcome.line())
            behind = [o.skill_id for o in report.outcomes if o.status != "in_sync"]
        if behind:
            raise CommandError(f"not in sync: {', '.join(behind)}")
