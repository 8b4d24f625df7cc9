from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from claresia.services import validation_message
from connectors.plugin_remote import plugin_remote_configure


class Command(BaseCommand):
    help = (
        "Store the git remote (HTTPS URL) of a tenant's plugin marketplace and the token that "
        "may push to it (encrypted; read from a file, never the command line)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--url", required=True, help="the repository's HTTPS URL")
        parser.add_argument("--token-file", help="a file holding the token (kept when omitted)")

    def handle(self, *args, tenant, url, token_file, **options):
        token = None
        if token_file:
            try:
                with open(token_file, encoding="utf-8") as handle:
                    token = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
                raise CommandError(
                    f"cannot read the token file {token_file}: {reason}", returncode=2
                ) from None
        owner = tenant_for_command(tenant)
        try:
            remote = plugin_remote_configure(tenant=owner, url=url, token=token)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        self.stdout.write(
            f"plugin remote of tenant {tenant}: {remote.url} (token {remote.token_masked}); "
            f"run publish_plugin --tenant {tenant}"
        )
