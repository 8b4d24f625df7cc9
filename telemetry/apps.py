from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from oauth2_provider.models import AccessToken

        from claresia.models import Tenant
        from skills.models import Skill
        from telemetry.hub import hotcache
        from telemetry.hub.mcp_services import mcp_tokens_changed
        from telemetry.hub.models import HubToken, McpClient, ModelPrice

        # Any change to what the hub keeps in memory empties this process's copy at once
        # (other processes: within hotcache.HOT_CACHE_SECONDS).
        for model in (Tenant, Skill, HubToken, ModelPrice):
            for signal in (post_save, post_delete):
                signal.connect(hotcache.forget_all, sender=model, weak=False)

        # Every process stops trusting the MCP tokens it verified, at once (token_stamp.py).
        for model in (AccessToken, McpClient):
            for signal in (post_save, post_delete):
                signal.connect(mcp_tokens_changed, sender=model, weak=False)
