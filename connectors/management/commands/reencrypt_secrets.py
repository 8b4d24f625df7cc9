from django.core.management.base import BaseCommand, CommandError

from connectors.crypto import SecretUnreadable
from connectors.plugin_remote import plugin_remotes_reencrypt
from connectors.services import connectors_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every stored connector key under the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        try:
            count = connectors_reencrypt()
            tokens = plugin_remotes_reencrypt()
        except SecretUnreadable as exc:
            raise CommandError(f"{exc}; nothing was changed") from None
        self.stdout.write(
            f"re-encrypted {count} connector key(s) and {tokens} plugin remote token(s) "
            "under the newest key"
        )
