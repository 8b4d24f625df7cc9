from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from claresia.services import archetype_create, validation_message


class Command(BaseCommand):
    help = "Create an archetype group and map it to a ChatGPT workspace group id."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--group-id", default="", help="ChatGPT workspace group id (grp_…)")

    def handle(self, *args, tenant, slug, name, group_id, **options):
        owner = tenant_for_command(tenant)
        try:
            group = archetype_create(
                tenant=owner, slug=slug, name=name, workspace_group_id=group_id
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        self.stdout.write(f"created archetype {group.slug} for tenant {tenant}")
