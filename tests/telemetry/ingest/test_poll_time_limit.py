"""A poll task that reaches its soft time limit stops, leaves the tenant's poll lock and says so
on the tenant's poll status rows."""

import re

import pytest
from django.conf import settings
from django.db import connection

from claresia.locks import LockClass
from claresia.time_limits import SoftTimeLimitExceeded
from telemetry.ingest.sources.audit_log import poller
from telemetry.ingest.sources.logs_platform import poller as logs_poller
from telemetry.models import LogsCursor, PollCursor
from telemetry.tasks import telemetry_poll_tenant_task
from tests.locks import taken_elsewhere
from tests.telemetry.ingest.sources.logs_platform.test_poller import workspace  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration
STOPPED = re.compile(r"^stopped after \d+ s: time limit$")


def _interrupt(*args, **kwargs):
    raise SoftTimeLimitExceeded()


def test_the_poll_task_has_a_soft_and_a_later_hard_time_limit():
    assert telemetry_poll_tenant_task.soft_time_limit == settings.TELEMETRY_POLL_SOFT_TIME_LIMIT
    assert telemetry_poll_tenant_task.time_limit > telemetry_poll_tenant_task.soft_time_limit


def test_an_audit_log_poll_stopped_by_its_time_limit_leaves_the_lock_and_says_why(
    sandbox, connector, tenant, monkeypatch
):
    # given a download that the task's soft time limit interrupts
    monkeypatch.setattr(poller, "_read_window", _interrupt)

    # when the poll task runs
    telemetry_poll_tenant_task(tenant.pk)

    # then the tenant's poll lock is free and its poll status row says why it stopped
    if connection.vendor == "postgresql":
        assert not taken_elsewhere(LockClass.TELEMETRY_POLL, tenant.pk)
    assert STOPPED.match(PollCursor.objects.get(tenant=tenant).last_error)


@pytest.mark.usefixtures("workspace")
def test_a_logs_platform_poll_stopped_by_its_time_limit_says_why_on_each_event_type(
    tenant, monkeypatch
):
    # given a Logs Platform read that the task's soft time limit interrupts
    monkeypatch.setattr(logs_poller._Poll, "poll_type", _interrupt)

    # when the poll task runs
    telemetry_poll_tenant_task(tenant.pk)

    # then the lock is free and both event types' status rows say why the poll stopped
    if connection.vendor == "postgresql":
        assert not taken_elsewhere(LockClass.TELEMETRY_POLL, tenant.pk)
    errors = LogsCursor.objects.filter(tenant=tenant).values_list("last_error", flat=True)
    assert len(errors) == 2
    assert all(STOPPED.match(error) for error in errors)
