"""The values of a telemetry event's source and type, spelled once: the model's TextChoices
(`telemetry.models.TelemetryEvent`) take their values from here, and the normalizers — pure
cores that import no Django — use them directly.

Pure: no database, no HTTP, no clock, no Django.
"""

from enum import StrEnum


class EventSource(StrEnum):
    COMPLIANCE_API = "compliance_api"
    COMPLIANCE_LOGS = "compliance_logs"
    AUDIT_EXPORT = "audit_export"


class EventKind(StrEnum):
    INVOKED = "invoked"
    FAILED = "failed"
    # A call to the tenant's Claresia MCP app seen in the Logs Platform's APP_LOG.
    APP_CALL = "app_call"
    # A plugin skill use (`message.author.skills_used`) whose id is not yet mapped to a skill.
    UNMAPPED = "unmapped"
