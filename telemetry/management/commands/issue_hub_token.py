from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from telemetry.hub.services import hub_token_issue


class Command(BaseCommand):
    help = "Mint a hub token for a tenant; print it once, alone on its line (only a hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--name", default="published GPTs", help="what will use the token")

    def handle(self, *args, tenant, name, **options):
        owner = tenant_for_command(tenant)
        if len(name) > 80:
            raise CommandError("--name: at most 80 characters")
        issued = hub_token_issue(tenant=owner, name=name)
        self.stdout.write(issued.plaintext)
