from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TelemetryConfig(AppConfig):
    name = "telemetry"

    def ready(self) -> None:
        from claresia.models import Tenant
        from telemetry.hub import hotcache
        from telemetry.hub.models import HubToken, ModelPrice

        # Any change to what the hub keeps in memory empties this process's copy at once
        # (other processes: within hotcache.HOT_CACHE_SECONDS). The skill is named by its
        # label, as Django's model signals allow, so that this app reaches no other app's models.
        for model in (Tenant, "skills.Skill", HubToken, ModelPrice):
            for signal in (post_save, post_delete):
                signal.connect(hotcache.forget_all, sender=model, weak=False)
