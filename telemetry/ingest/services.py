"""The telemetry ingest services that commands, Celery tasks and the admin call."""

from django.db.models import QuerySet

from claresia.models import Tenant
from telemetry.ingest.audit_export import (
    AuditExportError,
    AuditExportReport,
    audit_export_import,
)
from telemetry.ingest.poller import PollOutcome, telemetry_poll

__all__ = [
    "AuditExportError",
    "AuditExportReport",
    "PollOutcome",
    "audit_export_import",
    "telemetry_poll",
    "tenants_to_poll",
]


def tenants_to_poll(*, slug: str | None = None) -> QuerySet[Tenant]:
    """Tenants with an OpenAI connector (a failed Test connection does not stop polling: the
    poll health then shows the same reason)."""
    tenants = Tenant.objects.filter(connector__isnull=False).order_by("slug")
    if slug is not None:
        tenants = tenants.filter(slug=slug)
    return tenants
