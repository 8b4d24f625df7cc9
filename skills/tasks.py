"""Celery tasks: ids in, one service call. In-process when no broker is configured."""

from celery import shared_task

from skills.services.drift import drift_check_tenant, drift_checks_enqueue
from skills.services.publish import publish_run_execute


@shared_task(acks_late=True)
def publish_run_task(run_id: int) -> None:
    publish_run_execute(run_id=run_id)


@shared_task(acks_late=True)
def drift_check_tenant_task(tenant_id: int) -> None:
    drift_check_tenant(tenant_id=tenant_id)


@shared_task
def drift_check_all_task() -> None:
    """Daily (CELERY_BEAT_SCHEDULE): one drift check per tenant with a published GPT."""
    drift_checks_enqueue()
