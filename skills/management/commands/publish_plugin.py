from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from skills.targets.plugin.publish import plugin_publish


class Command(BaseCommand):
    help = (
        "Commit the tenant's plugin marketplace (its skills as a ChatGPT plugin) on top of its "
        "git remote and push it; prints the commit (or `unchanged`) and the skills added, "
        "changed and removed. --dry-run says what would be committed and pushes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--dry-run", action="store_true", help="show the change, push nothing")

    def handle(self, *args, tenant, dry_run, **options):
        result = plugin_publish(tenant=tenant_for_command(tenant), dry_run=dry_run)
        if not result.ok:
            for line in result.lines()[1:]:
                self.stdout.write(line)
            raise CommandError(result.error)
        for line in result.lines():
            self.stdout.write(line)
