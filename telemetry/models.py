"""Telemetry models. Each part keeps its models in its own module; Django finds them here."""

from telemetry.hub.models import GovernanceEvent, HubRecord, HubToken, ModelPrice

__all__ = ["GovernanceEvent", "HubRecord", "HubToken", "ModelPrice"]
