from django.core.management.base import BaseCommand

from connectors.selectors import ConnectorStatus
from demo.loader import demo_load, demo_skills_publish, demo_test_connection


class Command(BaseCommand):
    help = "Load (or refresh) the demo tenant 'dainese', connected to the OpenAI sandbox."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="the demo logins' password (default: a new one)")
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="where Claresia runs, for the printed links (scripts/demo.sh passes its port)",
        )

    def handle(self, *args, password, url, **options):
        tenant, logins = demo_load(password=password)
        connector = demo_test_connection(tenant)
        state = connector.get_status_display().lower()
        if connector.last_error:
            state += f" ({connector.last_error})"
        published = ""
        if connector.status == ConnectorStatus.CONNECTED:
            report = demo_skills_publish(tenant)
            published = "Demo skills: " + ", ".join(o.line() for o in report.outcomes) + "."
        self.stdout.write(
            "\n".join(
                [
                    f"Demo tenant '{tenant.slug}' loaded; OpenAI sandbox connection: {state}.",
                    *([published] if published else []),
                    "",
                    f"  Claresia is at {url.rstrip('/')}/admin/",
                    f"  tenant staff:    {logins.staff_username} / {logins.staff_password}",
                    f"  Claresia staff:  {logins.superuser_username} / {logins.superuser_password}",
                    "",
                ]
            )
        )
