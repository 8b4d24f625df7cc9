"""The telemetry ingest services that commands, Celery tasks and the admin call."""

from collections.abc import Callable

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
    "telemetry_poll_tenants",
    "tenants_to_poll",
]


def tenants_to_poll(*, slug: str | None = None) -> QuerySet[Tenant]:
    """Tenants with an OpenAI connector (a failed Test connection does not stop polling: the
    poll health then shows the same reason)."""
    tenants = Tenant.objects.filter(connector__isnull=False).order_by("slug")
    if slug is not None:
        tenants = tenants.filter(slug=slug)
    return tenants


def telemetry_poll_tenants(
    *,
    slug: str | None = None,
    max_pages: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[PollOutcome]:
    """One poll of each tenant to poll (or of the one named), stopping early when asked."""
    outcomes = []
    for tenant in tenants_to_poll(slug=slug):
        if should_stop():
            break
        outcomes.append(telemetry_poll(tenant=tenant, max_pages=max_pages, should_stop=should_stop))
    return outcomes
