from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from claresia.models import Tenant
from claresia.services import tenant_create, validation_message


class Command(BaseCommand):
    help = "Create a tenant (slug: lowercase letters, digits and single hyphens)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--mode", choices=Tenant.DeploymentMode.values, default=Tenant.DeploymentMode.A
        )
        parser.add_argument("--hub-base-url", default="", help="required for Mode C (https://)")

    def handle(self, *args, slug, name, mode, hub_base_url, **options):
        try:
            tenant = tenant_create(
                slug=slug, name=name, deployment_mode=mode, hub_base_url=hub_base_url
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        self.stdout.write(f"created tenant {tenant.slug} ({tenant.name}, mode {mode})")
