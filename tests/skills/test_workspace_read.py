"""The stored workspace read: the hourly task reads each tenant with a workspace id (the sandbox's
Compliance API over real HTTP) and stores what the pages then show without asking."""

from datetime import UTC, datetime

import pytest

from connectors.services import connector_connect
from skills.models import WorkspaceRead
from skills.services.workspace_read import revived, stored, workspace_read_of
from skills.targets.custom_gpt.workspace_drift import WorkspaceSkillLine
from skills.targets.plugin.arrival import ArrivalStatus, PluginArrival
from skills.tasks import workspace_read_all_task
from tests.factories import make_user

pytestmark = pytest.mark.integration

WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
READ_AT = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
CHECK_NOW = "/command-center/distribution/plugin/check"


def test_the_hourly_read_stores_each_tenant_with_a_workspace_and_skips_the_others(
    sandbox, tenant, other_tenant, imported_skill, time_machine
):
    # given dainese in a workspace, and another tenant connected without a workspace id
    time_machine.move_to(READ_AT, tick=False)
    connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-key", workspace_id=WORKSPACE
    )
    connector_connect(tenant=other_tenant, organization_id="org-other", api_key="sk-admin-key")

    # when the hourly task runs (in-process here)
    queued = workspace_read_all_task()

    # then dainese alone was read, and its page-facing read says what and when
    assert queued == 1
    assert list(WorkspaceRead.objects.values_list("tenant__slug", flat=True)) == ["dainese"]
    read = workspace_read_of(tenant=tenant)
    assert read.read_at == READ_AT
    assert [line.skill_id for line in read.lines] == ["incident-postmortem"]
    assert read.arrival.status == ArrivalStatus.NOT_IMPORTED
    assert workspace_read_of(tenant=other_tenant) is None


def test_a_stored_line_and_arrival_read_back_as_they_were():
    # given a line and an arrival with times, tuples and an enum
    line = WorkspaceSkillLine(
        skill_id="prd-review",
        gpt_name="claresia-dainese-prd-review",
        found=True,
        config_changed_at=READ_AT,
        action_domains=("api.claresia.com",),
        drifted=["description"],
    )
    arrival = PluginArrival(
        ArrivalStatus.WAITING_FOR_SYNC, "claresia-dainese", workspace_version="1.0.0"
    )

    # when they are stored as JSON and read back
    # then they are equal, and a key the class no longer has is ignored
    assert revived(WorkspaceSkillLine, stored(line)) == line
    assert revived(PluginArrival, stored(arrival) | {"gone": 1}) == arrival


def test_a_viewer_cannot_queue_a_read_and_another_tenant_s_is_not_found(
    client, tenant, other_tenant, django_capture_on_commit_callbacks
):
    # given a viewer of dainese
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))

    # when they press Check now for dainese, and for a tenant they do not belong to
    with django_capture_on_commit_callbacks(execute=False) as queued:
        own = client.post(CHECK_NOW, {"tenant": tenant.slug})
        other = client.post(CHECK_NOW, {"tenant": other_tenant.slug})

    # then both are refused and nothing is queued
    assert (own.status_code, other.status_code) == (403, 404)
    assert queued == []
