"""Beat's telemetry fan-out runs through Redis and a real worker: one poll task per tenant."""

import pytest

from telemetry.models import TelemetryEvent
from telemetry.tasks import telemetry_poll_tenants_task
from tests.telemetry.helpers import seed
from tests.worker.helpers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.worker]


def test_the_poll_fan_out_is_executed_by_the_worker(
    celery_worker_process, sandbox, connector, tenant
):
    # given
    expected = seed(sandbox, 300)

    # when: what celery beat sends every TELEMETRY_POLL_INTERVAL seconds
    telemetry_poll_tenants_task.delay()

    # then
    wait_for(
        lambda: TelemetryEvent.objects.filter(tenant=tenant).count() == len(expected),
        what="the polled events",
        worker=celery_worker_process,
    )
    celery_worker_process.terminate()
    log = celery_worker_process.communicate(timeout=30)[0]
    assert "telemetry.poll_tenants" in log
    assert "telemetry.poll_tenant[" in log
    assert set(TelemetryEvent.objects.values_list("source_event_id", flat=True)) == expected
