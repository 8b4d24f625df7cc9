"""The Logs Platform poll under attack, against the sandbox over real HTTP: an unconvertible
timestamp is a malformed line, a file that decodes past the size bound is refused and the next
read, a download that outlasts the time bound releases the tenant's lock, a GPT of a longer
tenant slug is not the tenant's, and a line of another workspace is skipped and counted."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from claresia.models import Tenant
from connectors.sandbox.chatgpt_admin import app_log_lines, gpt_object, parse_iso
from connectors.services import connector_connect, connector_test_connection
from skills.models import Skill
from telemetry.ingest.outcome import PollStatus
from telemetry.ingest.storage import tenant_poll_lock
from telemetry.models import LogsCursor
from tests.telemetry.ingest.sources.logs_platform.test_poller import (
    ADMIN_KEY,
    OURS,
    WORKSPACE,
    add_file,
    control,
    lines,
    poll,
    rows,
    workspace,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.integration

OVERFLOW = "9999-12-31T23:59:59-14:00"  # past year 9999 once in UTC: OverflowError


def cursor_of(tenant, event_type="CONVERSATION_MESSAGE"):
    return LogsCursor.objects.get(tenant=tenant, event_type=event_type)


def test_an_unconvertible_timestamp_is_a_malformed_line_and_the_rest_is_read(workspace, tenant):  # noqa: F811
    # given: the first user message's time cannot be had in UTC; a second file follows
    poisoned = lines(1, gpt_ids=(OURS,), conversations=2)
    poisoned[0]["timestamp"] = OVERFLOW
    first = add_file(workspace, poisoned)
    last = add_file(workspace, lines(2, gpt_ids=(OURS,), conversations=1))

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK and outcome.files == 2
    assert outcome.malformed == 1
    assert f"file {first['id']} line 1: a timestamp no calendar holds" in outcome.malformed_at[0]
    assert sorted(rows(tenant).values_list("source_event_id", flat=True)) == [
        "evt-1-1-0",
        "evt-2-0-0",
    ]
    assert cursor_of(tenant).cursor_at == parse_iso(last["end_time"])


def test_an_unconvertible_timestamp_on_an_app_call_is_malformed_too(workspace, tenant):  # noqa: F811
    # given
    made = app_log_lines(principal=WORKSPACE, calls=2, start=timezone.now() - timedelta(hours=1))
    made[1]["timestamp"] = OVERFLOW
    add_file(workspace, made, event_type="APP_LOG")

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK and outcome.malformed == 1
    assert rows(tenant).filter(event_type="app_call").count() == 1


def test_a_file_that_decodes_past_the_size_bound_is_refused_and_the_next_is_read(
    workspace,  # noqa: F811
    tenant,
    settings,
):
    # given: a bound smaller than the first file, larger than the second
    big = add_file(workspace, lines(1, gpt_ids=(OURS,), conversations=20))
    small = add_file(workspace, lines(2, gpt_ids=(OURS,), conversations=1))
    settings.LOGS_FILE_MAX_BYTES = 4096
    assert workspace.state.compliance.by_id[big["id"]].size > 4096
    assert workspace.state.compliance.by_id[small["id"]].size < 4096

    # when
    outcome = poll(tenant)

    # then: nothing of the refused file, the next file stored, the cursor past both
    assert outcome.status == PollStatus.OK and outcome.refused == 1
    assert "1 file(s) refused" in str(outcome)
    assert list(rows(tenant).values_list("source_event_id", flat=True)) == ["evt-2-0-0"]
    cursor = cursor_of(tenant)
    assert cursor.cursor_at == parse_iso(small["end_time"])
    assert f"file {big['id']}" in cursor.malformed_report
    assert "decodes to more than 4,096 bytes" in cursor.malformed_report


def test_a_download_past_the_time_bound_ends_the_poll_and_releases_the_lock(
    workspace,  # noqa: F811
    tenant,
    settings,
):
    # given: the signed host answers after 2 s, the bound is 0.3 s
    made = add_file(workspace, lines(1, gpt_ids=(OURS,), conversations=1))
    settings.LOGS_FILE_MAX_SECONDS = 0.3
    httpx.post(
        f"{workspace.url}/_sandbox/faults",
        json={"path": "/_signed/logs/", "status": None, "delay": 2.0, "times": None},
    ).raise_for_status()

    # when
    outcome = poll(tenant)

    # then: a clear error on the cursor, nothing stored, the cursor not past the file
    assert outcome.status == PollStatus.FAILED
    assert "took longer than 0.3 s" in outcome.error
    assert not rows(tenant).exists()
    cursor = cursor_of(tenant)
    assert cursor.cursor_at is None or cursor.cursor_at < parse_iso(made["end_time"])
    assert "took longer than 0.3 s" in cursor.last_error
    with tenant_poll_lock(tenant.pk) as acquired:
        assert acquired


def test_a_gpt_of_a_longer_tenant_slug_is_not_the_tenants(sandbox, db):
    # given: tenants alpha (skill eu-foo) and alpha-eu, and alpha-eu's GPT claresia-alpha-eu-foo
    # in the workspace alpha reads
    alpha = Tenant.objects.create(slug="alpha", name="Alpha")
    Tenant.objects.create(slug="alpha-eu", name="Alpha EU")
    Skill.objects.create(tenant=alpha, skill_id="eu-foo", name="Foo", version="1.0.0", ir={})
    control(
        sandbox,
        f"gpts/{WORKSPACE}",
        {"gpts": [gpt_object(gpt_id="g-eu-foo", name="claresia-alpha-eu-foo")]},
    )
    connector = connector_connect(
        tenant=alpha, organization_id="org-alpha", api_key=ADMIN_KEY, workspace_id=WORKSPACE
    )
    connector_test_connection(connector=connector)
    add_file(sandbox, lines(1, gpt_ids=("g-eu-foo",), conversations=2))

    # when
    outcome = poll(alpha)

    # then
    assert outcome.status == PollStatus.OK and outcome.stored == 0
    assert not rows(alpha).exists()


def test_a_line_of_another_workspace_is_skipped_and_counted(workspace, tenant, caplog):  # noqa: F811
    # given: a file of the tenant's workspace that holds two lines of another workspace
    made = lines(1, gpt_ids=(OURS,), conversations=3)
    for line in made[2:4]:
        line["principal"] = {"id": "0e0e0e0e-1111-4222-8333-444455556666", "type": "workspace"}
    add_file(workspace, made)

    # when
    outcome = poll(tenant)

    # then
    assert outcome.foreign == 2 and outcome.skipped >= 2
    assert "2 of another workspace or organization" in str(outcome)
    assert sorted(rows(tenant).values_list("source_event_id", flat=True)) == [
        "evt-1-0-0",
        "evt-1-2-0",
    ]
    assert "another workspace or organization skipped" in caplog.text


def test_an_app_call_of_another_organization_is_skipped(workspace, tenant):  # noqa: F811
    # given
    made = app_log_lines(principal="org-someone-else", calls=1, start=timezone.now())
    add_file(workspace, made, event_type="APP_LOG")

    # when
    outcome = poll(tenant)

    # then
    assert outcome.foreign == 2
    assert not rows(tenant).exists()
