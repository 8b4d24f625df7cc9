"""Celery tasks: ids in, one service call. In-process when no broker is configured."""

from celery import shared_task

from skills.services.publish import publish_run_execute


@shared_task(acks_late=True)
def publish_run_task(run_id: int) -> None:
    publish_run_execute(run_id=run_id)
