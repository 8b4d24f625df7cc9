"""The Compliance Logs Platform as a telemetry source, against the sandbox over real HTTP:
user messages of the tenant's Claresia GPTs become invocations exactly once, the cursor moves
with each stored file, checksums and malformed lines are reported, and no message content is
ever stored, logged or shown."""

import io
import logging
from datetime import timedelta

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from connectors.openai import chatgpt_admin
from connectors.openai import client as openai_client
from connectors.sandbox.chatgpt_admin import (
    app_log_lines,
    conversation_lines,
    gpt_object,
    parse_iso,
)
from connectors.services import connector_connect, connector_test_connection
from skills.models import Skill
from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.ingest.outcome import PollStatus
from telemetry.ingest.services import telemetry_poll_tenant
from telemetry.ingest.sources.logs_platform import poller as logs_poller
from telemetry.ingest.sources.logs_platform.poller import logs_poll
from telemetry.models import LogsCursor, TelemetryEvent

pytestmark = pytest.mark.integration

WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
WS = chatgpt_admin.Principal.workspace(WORKSPACE)
ADMIN_KEY = "sk-admin-workspace-key"
OURS, OTHER, FOREIGN, LATER = "g-ours", "g-travel", "g-foreign", "g-later"
MARKER = "MARKER-7c1f-never-stored"


@pytest.fixture
def workspace(sandbox, tenant, skill):
    """dainese, connected with a real admin key and a workspace id, tested: the seed's audit
    log refuses the key, the Logs Platform and the GPT inventory answer."""
    gpts = [
        gpt_object(gpt_id=OURS, name="claresia-dainese-incident-postmortem"),
        gpt_object(gpt_id=OTHER, name="Travel Helper"),
        gpt_object(gpt_id=FOREIGN, name="claresia-othercorp-incident-postmortem"),
    ]
    control(sandbox, f"gpts/{WORKSPACE}", {"gpts": gpts})
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=ADMIN_KEY, workspace_id=WORKSPACE
    )
    connector_test_connection(connector=connector)
    return sandbox


def control(sandbox, path, body):
    response = httpx.post(f"{sandbox.url}/_sandbox/compliance/{path}", json=body)
    response.raise_for_status()
    return response.json()


def add_file(sandbox, lines, **extra):
    body = {"principal": WORKSPACE, "event_type": "CONVERSATION_MESSAGE", **extra}
    if "raw" not in extra:
        body["lines"] = lines
    return control(sandbox, "logs", body)


def lines(seed, gpt_ids=(OURS, OTHER, FOREIGN), conversations=3, start=None, content=None):
    kwargs = {"content": content} if content else {}
    return conversation_lines(
        principal=WORKSPACE,
        conversations=conversations,
        gpt_ids=list(gpt_ids),
        start=start or timezone.now() - timedelta(hours=2),
        seed=seed,
        **kwargs,
    )


def rows(tenant):
    return TelemetryEvent.objects.filter(tenant=tenant, source="compliance_logs")


def poll(tenant, **options):
    return logs_poll(tenant=tenant, principal=WS, **options)


def test_a_user_message_of_a_claresia_gpt_is_one_invocation_with_the_assistants_model(
    workspace, tenant, skill
):
    # given: three conversations, one per GPT (ours, another GPT, another tenant's)
    add_file(workspace, lines(1))

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    (row,) = rows(tenant)
    assert row.source_event_id == "evt-1-0-0"
    assert row.event_type == TelemetryEvent.EventType.INVOKED
    assert row.skill == skill
    assert row.gpt_name == "claresia-dainese-incident-postmortem"
    assert row.conversation_id == "conv-1-0"
    assert row.model == "gpt-4o"
    assert row.actor_email == "ana@example.com"
    assert row.input_tokens is None and row.cost_usd is None


def test_poll_telemetry_reads_the_logs_platform_for_a_tenant_whose_check_passed(workspace, tenant):
    # given
    add_file(workspace, lines(1))
    out = io.StringIO()
    workspace.state.requests.clear()

    # when
    call_command("poll_telemetry", "--once", "--tenant=dainese", stdout=out)

    # then
    printed = out.getvalue()
    assert "seed audit log not read" in printed
    assert "dainese Logs Platform: 1 stored" in printed
    assert rows(tenant).count() == 1
    paths = [path for _, path, _ in workspace.state.requests]
    assert "/v1/organization/audit_logs" not in paths


def test_a_tenant_whose_logs_check_never_passed_is_not_read_there(sandbox, tenant, connector):
    # given: connected, never tested
    sandbox.state.requests.clear()

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then
    assert not any("/compliance/" in path for _, path, _ in sandbox.state.requests)


def test_the_same_event_in_two_files_is_stored_once_and_the_cursor_is_the_last_end_time(
    workspace, tenant
):
    # given
    first = lines(1)
    add_file(workspace, first)
    last = add_file(workspace, [first[0], *lines(2)])

    # when
    outcome = poll(tenant)

    # then
    assert outcome.files == 2
    assert sorted(rows(tenant).values_list("source_event_id", flat=True)) == [
        "evt-1-0-0",
        "evt-2-0-0",
    ]
    cursor = LogsCursor.objects.get(tenant=tenant, event_type="CONVERSATION_MESSAGE")
    assert cursor.cursor_at == parse_iso(last["end_time"])
    assert cursor.last_file_id == last["id"]


def test_a_late_file_brings_its_old_events_and_the_next_poll_reads_only_new_files(
    workspace, tenant
):
    # given
    add_file(workspace, lines(1))
    poll(tenant)
    workspace.state.requests.clear()
    add_file(workspace, lines(3, start=timezone.now() - timedelta(days=2)))

    # when
    outcome = poll(tenant)

    # then
    assert outcome.files == 1
    assert rows(tenant).count() == 2
    downloads = [
        p for _, p, _ in workspace.state.requests if "/v1/compliance/" in p and "/logs/" in p
    ]
    assert len(downloads) == 1


def test_a_file_whose_checksum_fails_once_is_downloaded_again(workspace, tenant):
    # given
    made = add_file(workspace, lines(1))
    control(workspace, f"logs/{made['id']}/corrupt", {"times": 1})

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    assert rows(tenant).count() == 1


def test_a_file_whose_checksum_fails_twice_stops_the_poll_before_it(workspace, tenant):
    # given
    add_file(workspace, lines(1))
    bad = add_file(workspace, lines(2))
    add_file(workspace, lines(3))
    control(workspace, f"logs/{bad['id']}/corrupt", {"times": 2})

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.FAILED
    assert f"log file {bad['id']}" in outcome.error and "sha256" in outcome.error
    assert list(rows(tenant).values_list("source_event_id", flat=True)) == ["evt-1-0-0"]
    cursor = LogsCursor.objects.get(tenant=tenant, event_type="CONVERSATION_MESSAGE")
    assert cursor.last_error == outcome.error

    # when: the next poll, the file served whole again
    again = poll(tenant)

    # then
    assert again.status == PollStatus.OK
    assert rows(tenant).count() == 3


def test_a_malformed_line_is_counted_and_reported_with_its_file_and_line(workspace, tenant):
    # given
    good = lines(1)
    text = "\n".join(
        [
            httpx.Response(200, json=good[0]).text,
            "{not json",
            httpx.Response(200, json=good[1]).text,
            "[1, 2]",
        ]
    )
    made = add_file(workspace, [], raw=text + "\n")

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    assert outcome.malformed == 2
    assert f"file {made['id']} line 2: not valid JSON" in outcome.malformed_at
    assert f"file {made['id']} line 4: not a JSON object" in outcome.malformed_at
    assert rows(tenant).count() == 1
    assert (
        "line 2"
        in LogsCursor.objects.get(tenant=tenant, event_type="CONVERSATION_MESSAGE").malformed_report
    )


def test_an_overlong_line_is_malformed_and_never_held_whole(workspace, tenant, monkeypatch):
    # given
    monkeypatch.setattr(openai_client, "DECODE_STEP", 1024)
    long_line = '{"event_id": "' + "x" * (2 * 1024 * 1024) + '"}'
    good = httpx.Response(200, json=lines(1)[0]).text
    add_file(workspace, [], raw=f"{long_line}\n{good}\n")

    # when
    outcome = poll(tenant)

    # then
    assert outcome.malformed == 1
    assert "line 1: longer than" in outcome.malformed_at[0]
    assert rows(tenant).count() == 1


def test_an_unknown_gpt_id_refreshes_the_inventory_once(workspace, tenant):
    # given: a GPT the inventory did not list when the poll began
    add_file(workspace, lines(1, gpt_ids=(LATER,)) + lines(2, gpt_ids=("g-unknown",)))
    control(
        workspace,
        f"gpts/{WORKSPACE}",
        {"gpts": [gpt_object(gpt_id=LATER, name="claresia-dainese-incident-postmortem")]},
    )
    workspace.state.requests.clear()

    # when
    poll(tenant)

    # then: read at the start and once more, however many unknown ids
    gpt_reads = [p for _, p, _ in workspace.state.requests if p.endswith("/gpts")]
    assert len(gpt_reads) == 2
    assert rows(tenant).filter(gpt_id=LATER).count() == 3


def test_the_inventory_is_refreshed_when_a_gpt_appears_mid_poll(workspace, tenant, monkeypatch):
    # given: the map is loaded, then the GPT is built in ChatGPT
    add_file(workspace, lines(1, gpt_ids=(LATER,)))
    original = logs_poller._GptMap._load

    def load_then_build(self):
        loaded = original(self)
        if not self.refreshed:  # the first load: the GPT is built right after it
            control(
                workspace,
                f"gpts/{WORKSPACE}",
                {"gpts": [gpt_object(gpt_id=LATER, name="claresia-dainese-incident-postmortem")]},
            )
        return loaded

    monkeypatch.setattr(logs_poller._GptMap, "_load", load_then_build)

    # when
    outcome = poll(tenant)

    # then
    assert outcome.stored == 3
    assert rows(tenant).filter(gpt_id=LATER).count() == 3


def test_a_crash_mid_file_stores_nothing_of_it_and_the_next_poll_nothing_twice(
    workspace, tenant, monkeypatch
):
    # given
    add_file(workspace, lines(1))
    add_file(workspace, lines(2))
    real_insert = logs_poller.telemetry_rows_insert
    calls = []

    def crash_on_second(**kwargs):
        calls.append(1)
        stored = real_insert(**kwargs)
        if len(calls) == 2:
            raise RuntimeError("killed mid-file")
        return stored

    monkeypatch.setattr(logs_poller, "telemetry_rows_insert", crash_on_second)

    # when
    crashed = poll(tenant)
    monkeypatch.setattr(logs_poller, "telemetry_rows_insert", real_insert)
    again = poll(tenant)

    # then
    assert crashed.status == PollStatus.FAILED
    assert again.status == PollStatus.OK and again.files == 1
    assert rows(tenant).count() == 2


def test_a_cursor_older_than_30_days_records_a_visible_gap_and_goes_on(workspace, tenant):
    # given
    old = timezone.now() - timedelta(days=45)
    LogsCursor.objects.create(
        tenant=tenant, event_type="CONVERSATION_MESSAGE", principal=str(WS), cursor_at=old
    )
    add_file(workspace, lines(1))

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    assert "expired before Claresia read them" in outcome.gap
    assert f"events between {old:%Y-%m-%d %H:%M}" in outcome.gap
    assert rows(tenant).count() == 1
    assert (
        "expired before Claresia read them"
        in LogsCursor.objects.get(tenant=tenant, event_type="CONVERSATION_MESSAGE").last_gap
    )


def test_a_429_with_retry_after_is_honoured(workspace, tenant):
    # given
    add_file(workspace, lines(1))
    httpx.post(
        f"{workspace.url}/_sandbox/faults",
        json={
            "path": f"/v1/compliance/workspaces/{WORKSPACE}/logs",
            "status": 429,
            "retry_after": "1",
        },
    ).raise_for_status()

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    assert rows(tenant).count() == 1


def test_a_backlog_drains_over_several_polls_within_the_file_budget(workspace, tenant):
    # given
    for n in range(5):
        add_file(workspace, lines(n))

    # when
    first = poll(tenant, max_files=2)
    second = poll(tenant, max_files=2)
    third = poll(tenant, max_files=2)

    # then
    assert (first.status, second.status, third.status) == (
        PollStatus.PARTIAL,
        PollStatus.PARTIAL,
        PollStatus.OK,
    )
    assert rows(tenant).count() == 5


def test_poll_health_keeps_the_logs_platforms_max_event_time(workspace, tenant):
    # given
    made = lines(1)
    add_file(workspace, made)

    # when
    poll(tenant)

    # then
    cursor = LogsCursor.objects.get(tenant=tenant, event_type="CONVERSATION_MESSAGE")
    assert chatgpt_admin.iso(cursor.max_event_time)[:19] == made[-1]["timestamp"][:19]


def test_an_invocation_without_a_hub_record_is_a_governance_event(workspace, tenant, skill):
    # given: two conversations of our GPT, one with its hub record
    made = lines(1, gpt_ids=(OURS,), conversations=2, start=timezone.now() - timedelta(hours=3))
    add_file(workspace, made)
    HubRecord.objects.create(
        tenant=tenant,
        skill=skill,
        openai_conversation_id="conv-1-0",
        content_hash="x",
        output="## Done",
        model="gpt-4o",
    )

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then
    flagged = GovernanceEvent.objects.filter(
        tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING
    )
    assert list(flagged.values_list("openai_conversation_id", flat=True)) == ["conv-1-1"]


def test_no_message_content_is_stored_logged_or_shown(workspace, tenant, client, staff, caplog):
    # given: a marker in every message's content, and a malformed line quoting it
    made = lines(1, content=MARKER)
    add_file(workspace, made)
    add_file(workspace, [], raw='{"message": {"content": "' + MARKER + '"\n')
    caplog.set_level(logging.DEBUG)

    # when
    call_command("poll_telemetry", "--once", "--tenant=dainese", stdout=io.StringIO())
    client.force_login(staff)
    pages = [
        client.get(f"{reverse('command_center:overview')}?tenant=dainese"),
        client.get(f"{reverse('command_center:telemetry')}?tenant=dainese"),
        client.get(f"{reverse('command_center:records')}?tenant=dainese"),
        client.get(reverse("admin:telemetry_telemetryevent_changelist")),
        client.get(
            reverse("admin:telemetry_telemetryevent_change", args=[rows(tenant).first().pk])
        ),
    ]

    # then
    assert rows(tenant).count() == 1
    assert MARKER not in caplog.text
    for page in pages:
        assert page.status_code == 200
        assert MARKER not in page.content.decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',  # noqa: S608
                [f"%{MARKER}%"],
            )
            assert cursor.fetchone()[0] == 0, f"{table}.{column} holds message content"


def test_the_row_keeps_no_raw_message_content(workspace, tenant):
    # given
    add_file(workspace, lines(1, content=MARKER))

    # when
    poll(tenant)

    # then
    raw = rows(tenant).get().raw
    assert "content" not in raw["message"]
    assert raw["message"]["author"]["type"] == "user"
    assert raw["log_file"]["line"] == 1


def test_a_failed_logs_poll_makes_poll_telemetry_exit_non_zero(workspace, tenant):
    # given
    made = add_file(workspace, lines(1))
    control(workspace, f"logs/{made['id']}/corrupt", {"times": 5})

    # when / then
    with pytest.raises(CommandError, match="Logs Platform: log file"):
        call_command("poll_telemetry", "--once", "--tenant=dainese", stdout=io.StringIO())


def test_a_gpt_missing_from_the_inventory_is_mapped_by_the_tenants_hub_records(
    workspace, tenant, skill
):
    # given: a hub record carries a GPT id ChatGPT sends that the inventory does not list
    HubRecord.objects.create(
        tenant=tenant,
        skill=skill,
        openai_conversation_id="conv-x",
        openai_gpt_id=LATER,
        content_hash="x",
        output="## Done",
        model="gpt-4o",
    )
    add_file(workspace, lines(1, gpt_ids=(LATER,), conversations=1))

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    assert rows(tenant).get().skill == skill
    assert Skill.objects.filter(tenant=tenant).count() == 1


def test_an_organization_only_connection_reads_app_calls_and_never_conversations(
    sandbox, tenant, client, staff
):
    # given: org id only; the organization holds conversation and app-call files
    connector = connector_connect(tenant=tenant, organization_id="org-dainese", api_key=ADMIN_KEY)
    connector_test_connection(connector=connector)
    org_lines = conversation_lines(
        principal="org-dainese",
        conversations=1,
        gpt_ids=[OURS],
        start=timezone.now() - timedelta(hours=1),
    )
    control(
        sandbox,
        "logs",
        {"principal": "org-dainese", "event_type": "CONVERSATION_MESSAGE", "lines": org_lines},
    )
    calls = app_log_lines(
        principal="org-dainese", calls=2, start=timezone.now() - timedelta(hours=1)
    )
    control(sandbox, "logs", {"principal": "org-dainese", "event_type": "APP_LOG", "lines": calls})
    sandbox.state.requests.clear()

    # when
    telemetry_poll_tenant(tenant=tenant)
    client.force_login(staff)
    overview = client.get(f"{reverse('command_center:overview')}?tenant=dainese").content.decode()

    # then: the app calls are stored, no conversation was asked for, and the overview says why
    assert list(rows(tenant).values_list("event_type", flat=True)) == ["app_call", "app_call"]
    assert not LogsCursor.objects.filter(tenant=tenant, event_type="CONVERSATION_MESSAGE").exists()
    assert all(status != 400 for _, _, status in sandbox.state.requests)
    assert "needs the ChatGPT workspace id" in overview and "ChatGPT Admin Console" in overview


def test_the_overview_shows_the_logs_platform_poll_and_the_dashboard_where_cost_comes_from(
    workspace, tenant, client, staff
):
    # given
    LogsCursor.objects.create(
        tenant=tenant,
        event_type="CONVERSATION_MESSAGE",
        principal=str(WS),
        cursor_at=timezone.now() - timedelta(days=45),
    )
    add_file(workspace, lines(1))
    poll(tenant)
    client.force_login(staff)

    # when
    overview = client.get(f"{reverse('command_center:overview')}?tenant=dainese").content.decode()
    dashboard = client.get(f"{reverse('command_center:telemetry')}?tenant=dainese").content
    dashboard = dashboard.decode()

    # then
    assert "Compliance Logs Platform" in overview
    assert "max_event_time" in overview
    assert "expired before Claresia read them" in overview
    assert "cost and latency come from the hub record" in dashboard
