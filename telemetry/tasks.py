"""Celery tasks: ids in, one service call each, safe to run twice (the poll lock and the
idempotent inserts see to that), bounded in time (settings: TELEMETRY_POLL_SOFT_TIME_LIMIT)."""

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from claresia.models import Tenant
from telemetry.app_connection.services import mcp_clients_unapproved_remove
from telemetry.ingest.services import telemetry_poll_tenant, tenants_to_poll


@shared_task(name="telemetry.poll_tenants")
def telemetry_poll_tenants_task() -> int:
    """Beat's entry point: fan out one poll task per connected tenant."""
    tenant_ids = list(tenants_to_poll().values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        telemetry_poll_tenant_task.delay(tenant_id)
    return len(tenant_ids)


@shared_task(
    name="telemetry.poll_tenant",
    soft_time_limit=settings.TELEMETRY_POLL_SOFT_TIME_LIMIT,
    time_limit=settings.TELEMETRY_POLL_SOFT_TIME_LIMIT + settings.TASK_TIME_LIMIT_GRACE,
)
def telemetry_poll_tenant_task(tenant_id: int) -> str:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "tenant gone"
    return str(telemetry_poll_tenant(tenant=tenant))


def telemetry_poll_start(*, tenant: Tenant) -> None:
    """Queue one tenant's poll once the transaction commits (the admin's *Poll now*)."""
    transaction.on_commit(lambda: telemetry_poll_tenant_task.delay(tenant.pk))


@shared_task(name="telemetry.mcp_clients_unapproved_remove")
def mcp_clients_unapproved_remove_task() -> int:
    """Beat's entry point: MCP client registrations never approved within a day, removed."""
    return mcp_clients_unapproved_remove(now=timezone.now())
