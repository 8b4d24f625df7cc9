from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from connectors.models import Connector
from connectors.selectors import connector_checks
from connectors.services import connector_test_connection


class Command(BaseCommand):
    help = (
        "Test a tenant's ChatGPT Enterprise connection: one line per check (the seed's audit "
        "log, the Compliance Logs Platform, the GPT inventory); exit 0 when connected."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args, tenant, **options):
        owner = tenant_for_command(tenant)
        try:
            connector = Connector.objects.select_related("tenant").get(tenant=owner)
        except Connector.DoesNotExist:
            raise CommandError(
                f"tenant {tenant} has no OpenAI connector: run connect_openai first"
            ) from None
        connector = connector_test_connection(connector=connector)
        lines = connector_checks(connector)
        for line in lines:
            self.stdout.write(str(line))
        if connector.status != Connector.Status.CONNECTED or any(line.kept for line in lines):
            # A kept line could not reach OpenAI: still read as before, yet not a passed test.
            raise CommandError(connector.last_error.replace("\n", "; "))
        self.stdout.write(f"connected: tenant {tenant}, organization {connector.organization_id}")
