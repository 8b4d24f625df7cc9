from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from oauth2_provider.models import AccessToken

        from claresia.models import Tenant
        from telemetry.app_connection.models import McpClient
        from telemetry.app_connection.services import mcp_tokens_changed
        from telemetry.hub import hotcache
        from telemetry.hub.models import HubToken, ModelPrice

        # Any change to what the hub keeps in memory empties this process's copy at once
        # (other processes: within hotcache.HOT_CACHE_SECONDS). The skill is named by its
        # label, as Django's model signals allow, so that this app reaches no other app's models.
        for model in (Tenant, "skills.Skill", HubToken, ModelPrice):
            for signal in (post_save, post_delete):
                signal.connect(hotcache.forget_all, sender=model, weak=False)

        from oauth2_provider.models import get_application_model

        from telemetry.app_connection.cimd import public_client_without_secret

        # DOT materialises a metadata document's client itself (its cimd.py): this is the one
        # hook into that save.
        pre_save.connect(public_client_without_secret, sender=get_application_model())

        # Every process stops trusting the MCP tokens it verified, at once (token_stamp.py).
        for model in (AccessToken, McpClient):
            for signal in (post_save, post_delete):
                signal.connect(mcp_tokens_changed, sender=model, weak=False)
