import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from claresia.services import validation_message
from connectors.services import connector_connect


class Command(BaseCommand):
    help = "Store a tenant's OpenAI organization id and Compliance API key (encrypted)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--org-id", required=True, help="OpenAI organization id (org-…)")
        parser.add_argument(
            "--workspace-id",
            help="ChatGPT workspace id (a UUID; optional: reads the workspace's GPTs back)",
        )
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--api-key-file", help="a file holding the key (never the argv)")
        source.add_argument("--api-key-stdin", action="store_true", help="read the key from stdin")
        parser.add_argument("--publish-mode", choices=["automated", "manual_export"])

    def handle(
        self,
        *args,
        tenant,
        org_id,
        workspace_id,
        api_key_file,
        api_key_stdin,
        publish_mode,
        **options,
    ):
        if api_key_stdin:
            api_key = sys.stdin.readline()
        else:
            try:
                with open(api_key_file, encoding="utf-8") as handle:
                    api_key = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
                raise CommandError(
                    f"cannot read the key file {api_key_file}: {reason}", returncode=2
                ) from None
        owner = tenant_for_command(tenant)
        try:
            connector = connector_connect(
                tenant=owner,
                organization_id=org_id,
                api_key=api_key,
                publish_mode=publish_mode,
                workspace_id=workspace_id,
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        workspace = f", workspace {connector.workspace_id}" if connector.workspace_id else ""
        self.stdout.write(
            f"connected tenant {tenant} to {connector.organization_id}{workspace} "
            f"(key {connector.api_key_masked}); run test_connection --tenant {tenant}"
        )
