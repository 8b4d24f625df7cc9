"""Celery tasks, and the helpers that queue them: ids in, one service call. In-process when no
broker is configured. The services never import this module: queueing is the caller's choice.
Each task that holds a lock or a run has a soft and a hard time limit (settings.py says why)."""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from claresia.models import Tenant
from connectors.plugin_remote import plugin_remote_tenant_ids
from skills.models import PluginPublishRun, PublishRun
from skills.services.workspace_read import workspace_read_refresh, workspace_read_tenant_ids
from skills.targets.custom_gpt.drift import drift_check_tenant, drift_tenant_ids
from skills.targets.custom_gpt.publish import publish_run_create, publish_run_execute
from skills.targets.plugin.publish import (
    plugin_publish,
    plugin_run_create,
    plugin_run_execute,
)


@shared_task(
    acks_late=True,
    soft_time_limit=settings.SKILLS_PUBLISH_SOFT_TIME_LIMIT,
    time_limit=settings.SKILLS_PUBLISH_SOFT_TIME_LIMIT + settings.TASK_TIME_LIMIT_GRACE,
)
def publish_run_task(run_id: int) -> None:
    publish_run_execute(run_id=run_id)


@shared_task(
    acks_late=True,
    soft_time_limit=settings.DRIFT_CHECK_SOFT_TIME_LIMIT,
    time_limit=settings.DRIFT_CHECK_SOFT_TIME_LIMIT + settings.TASK_TIME_LIMIT_GRACE,
)
def drift_check_tenant_task(tenant_id: int) -> None:
    drift_check_tenant(tenant_id=tenant_id)


@shared_task
def drift_check_all_task() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): one drift check per tenant with a published GPT."""
    tenant_ids = drift_tenant_ids()
    for tenant_id in tenant_ids:
        drift_check_tenant_task.delay(tenant_id)
    return len(tenant_ids)


@shared_task(
    acks_late=True,
    soft_time_limit=settings.DRIFT_CHECK_SOFT_TIME_LIMIT,
    time_limit=settings.DRIFT_CHECK_SOFT_TIME_LIMIT + settings.TASK_TIME_LIMIT_GRACE,
)
def workspace_read_tenant_task(tenant_id: int) -> None:
    workspace_read_refresh(tenant_id=tenant_id)


@shared_task
def workspace_read_all_task() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): one workspace read per tenant with a workspace id."""
    tenant_ids = workspace_read_tenant_ids()
    for tenant_id in tenant_ids:
        workspace_read_tenant_task.delay(tenant_id)
    return len(tenant_ids)


@shared_task(
    acks_late=True,
    soft_time_limit=settings.PLUGIN_PUBLISH_SOFT_TIME_LIMIT,
    time_limit=settings.PLUGIN_PUBLISH_SOFT_TIME_LIMIT + settings.TASK_TIME_LIMIT_GRACE,
)
def plugin_run_task(run_id: int) -> None:
    plugin_run_execute(run_id=run_id)


@shared_task(
    acks_late=True,
    soft_time_limit=settings.PLUGIN_PUBLISH_SOFT_TIME_LIMIT,
    time_limit=settings.PLUGIN_PUBLISH_SOFT_TIME_LIMIT + settings.TASK_TIME_LIMIT_GRACE,
)
def plugin_publish_tenant_task(tenant_id: int) -> None:
    """Publish one tenant's marketplace; a publish of what is already there makes no commit."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is not None:
        plugin_publish(tenant=tenant)


@shared_task
def plugin_publish_all_task() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): one marketplace publish per tenant with a plugin remote."""
    tenant_ids = plugin_remote_tenant_ids()
    for tenant_id in tenant_ids:
        plugin_publish_tenant_task.delay(tenant_id)
    return len(tenant_ids)


def plugin_run_start(*, tenant: Tenant, dry_run: bool, user=None) -> PluginPublishRun:
    """Record a plugin publish (or dry run) and queue it once the transaction commits."""
    run = plugin_run_create(tenant=tenant, dry_run=dry_run, user=user)
    transaction.on_commit(lambda: plugin_run_task.delay(run.pk))
    return run


def publish_run_start(
    *, tenant: Tenant, skill_ids: list[str], user=None, force: bool = False
) -> PublishRun:
    """Record a publish run and queue its task once the transaction commits."""
    run = publish_run_create(tenant=tenant, skill_ids=skill_ids, user=user, force=force)
    transaction.on_commit(lambda: publish_run_task.delay(run.pk))
    return run


def drift_check_start(*, tenant: Tenant) -> None:
    """Queue the tenant's drift check once the transaction commits (the page's button)."""
    transaction.on_commit(lambda: drift_check_tenant_task.delay(tenant.pk))


def workspace_read_start(*, tenant: Tenant) -> None:
    """Queue a read of the tenant's workspace once the transaction commits (the pages' *Check
    now*): the pages show the stored read, never ask OpenAI themselves."""
    transaction.on_commit(lambda: workspace_read_tenant_task.delay(tenant.pk))
