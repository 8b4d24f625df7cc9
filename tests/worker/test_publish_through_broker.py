"""Publishing runs as a Celery task through a broker and a real worker, not only in-process:
Redis as in production, and the filesystem transport `make run` uses."""

import pytest

from demo.loader import demo_load
from skills.models import Publication, PublishRun
from skills.tasks import publish_run_start
from tests.worker.helpers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.worker]


@pytest.mark.parametrize("broker", ["redis", "filesystem"], indirect=True)
def test_a_publish_run_is_executed_by_the_worker(celery_worker_process, sandbox):
    # given: the demo tenant with its three skills, connected to the sandbox
    tenant, _ = demo_load(password="worker-test-pass")

    # when
    run = publish_run_start(
        tenant=tenant, skill_ids=list(tenant.skills.values_list("skill_id", flat=True))
    )

    # then
    wait_for(
        lambda: not PublishRun.objects.get(pk=run.pk).is_active,
        what="the publish run",
        worker=celery_worker_process,
    )
    run.refresh_from_db()
    assert (run.done, run.failed, run.remaining) == (3, 0, 0)
    assert Publication.objects.filter(skill__tenant=tenant, status="published").count() == 3
    assert any(path == "/v1/organization/gpts" for _, path, _ in sandbox.state.requests)
    celery_worker_process.terminate()
    log = celery_worker_process.communicate(timeout=30)[0]
    assert "skills.tasks.publish_run_task" in log
    assert "succeeded" in log
