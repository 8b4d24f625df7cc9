"""The telemetry ingest services that commands, Celery tasks and the admin call."""

import logging
import time
from collections.abc import Callable
from typing import IO

from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet
from django.utils import timezone

from claresia.models import Tenant
from claresia.time_limits import SoftTimeLimitExceeded, time_limit_reason
from connectors.selectors import (
    connector_audit_log_refused,
    connector_logs_principal,
    connector_of,
    tenants_with_connector,
)
from telemetry.hub.pricing import tenant_price_table
from telemetry.ingest.outcome import PollOutcome, PollStatus
from telemetry.ingest.reconcile import HORIZON, ReconcileOutcome, telemetry_reconcile
from telemetry.ingest.sources.audit_export.importer import (
    AuditExportError,
    AuditExportReport,
    audit_export_import,
)
from telemetry.ingest.sources.audit_log.poller import (
    POLL_PAGE_BUDGET,
    telemetry_poll,
    telemetry_poll_failed,
)
from telemetry.ingest.sources.logs_platform.plugin_skills import plugin_skills_learn
from telemetry.ingest.sources.logs_platform.poller import logs_poll, logs_poll_failed

logger = logging.getLogger(__name__)

__all__ = [
    "POLL_PAGE_BUDGET",
    "AuditExportError",
    "AuditExportReport",
    "PollOutcome",
    "PollStatus",
    "ReconcileOutcome",
    "telemetry_import_audit_export",
    "telemetry_poll_tenant",
    "telemetry_poll_tenants",
    "tenants_to_poll",
]


def telemetry_poll_tenant(
    *,
    tenant: Tenant,
    max_pages: int = POLL_PAGE_BUDGET,
    should_stop: Callable[[], bool] = lambda: False,
) -> PollOutcome:
    """Poll every source the tenant's credentials reach, then reconcile with the hub: the seed's
    audit log (priced with the tenant's own table), and the Compliance Logs Platform when its
    last Test connection check passed (read as the principal that passed).

    The seed's audit log is not read when its check failed while the Logs Platform's passed (a
    real workspace's admin key, which the Platform host refuses): it would only repeat that
    refusal as a poll error.

    When the task's soft time limit interrupts it, the poll's locks are released on the way out
    and every source's status row says "stopped after N s: time limit" (claresia/time_limits.py);
    what was stored before stays, and the next poll resumes at the cursors."""
    started = time.monotonic()
    try:
        return _poll_tenant(tenant=tenant, max_pages=max_pages, should_stop=should_stop)
    except SoftTimeLimitExceeded:
        reason = time_limit_reason(started)
        logger.warning("telemetry poll of tenant %s %s", tenant.slug, reason)
        now = timezone.now()
        outcome = telemetry_poll_failed(tenant=tenant, now=now, message=reason)
        if connector_logs_principal(tenant=tenant) is not None:
            outcome.sources.append(logs_poll_failed(tenant=tenant, message=reason, now=now))
        return outcome


def _poll_tenant(*, tenant: Tenant, max_pages: int, should_stop: Callable[[], bool]) -> PollOutcome:
    connector = connector_of(tenant=tenant)  # read once, passed to what needs it
    principal = connector_logs_principal(tenant=tenant, connector=connector)
    if principal is not None and connector_audit_log_refused(tenant=tenant, connector=connector):
        outcome = PollOutcome(tenant=tenant.slug, status=PollStatus.OK, audit_read=False)
    else:
        outcome = telemetry_poll(
            tenant=tenant,
            max_pages=max_pages,
            should_stop=should_stop,
            prices=tenant_price_table(tenant=tenant),
        )
    if principal is not None and not should_stop():
        logs = logs_poll(
            tenant=tenant, principal=principal, connector=connector, should_stop=should_stop
        )
        outcome.sources.append(logs)
        if logs.status == PollStatus.FAILED:
            outcome.status = PollStatus.FAILED
        elif logs.status == PollStatus.PARTIAL and outcome.status == PollStatus.OK:
            outcome.status = PollStatus.PARTIAL
    now = timezone.now()
    if principal is not None:
        # Before reconciliation: uses whose id is learned now are reconciled in this poll.
        plugin_skills_learn(tenant=tenant, now=now)
    telemetry_reconcile(tenant=tenant, now=now)
    return outcome


def telemetry_import_audit_export(
    *, tenant: Tenant, stream: IO[bytes], filename: str = ""
) -> AuditExportReport:
    """The per-user audit export fallback, priced and reconciled like polled events."""
    report = audit_export_import(
        tenant=tenant, stream=stream, filename=filename, prices=tenant_price_table(tenant=tenant)
    )
    now = timezone.now()
    telemetry_reconcile(tenant=tenant, now=now, since=now - HORIZON)
    return report


def tenants_to_poll(*, slug: str | None = None) -> QuerySet[Tenant]:
    """Tenants with an OpenAI connector (a failed Test connection does not stop polling: the
    poll health then shows the same reason)."""
    tenants = tenants_with_connector().order_by("slug")
    if slug is not None:
        tenants = tenants.filter(slug=slug)
    return tenants


def telemetry_poll_tenants(
    *,
    slug: str | None = None,
    max_pages: int = POLL_PAGE_BUDGET,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[PollOutcome]:
    """One poll of each tenant to poll (or of the one named), stopping early when asked."""
    outcomes = []
    for tenant in tenants_to_poll(slug=slug):
        if should_stop():
            break
        try:
            outcome = telemetry_poll_tenant(
                tenant=tenant, max_pages=max_pages, should_stop=should_stop
            )
        except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
            raise  # the database is away for every tenant: the caller reports it
        except Exception:
            # One tenant's failure (say in reconciliation) is its poll error; the next
            # tenant is polled all the same.
            logger.exception("telemetry poll of tenant %s stopped on an error", tenant.slug)
            outcome = telemetry_poll_failed(tenant=tenant, now=timezone.now())
        outcomes.append(outcome)
    return outcomes
