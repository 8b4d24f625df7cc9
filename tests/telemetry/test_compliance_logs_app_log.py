"""APP_LOG from the Compliance Logs Platform (the sandbox over real HTTP): a call to the tenant's
Claresia MCP app is one `app_call` row, exactly once, with its own cursor, through the same poll
and lock as CONVERSATION_MESSAGE; ids, times, the app's and the tool's names only, never the
call's arguments or result; and it is not counted as an invocation."""

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from connectors.openai import compliance
from connectors.openai.errors import AdminPermissionError
from connectors.sandbox.compliance import app_log_lines, parse_iso
from telemetry.dashboard import dashboard_period, telemetry_volume
from telemetry.hub.models import GovernanceEvent
from telemetry.ingest.logs_normalizer import (
    APP_CALL,
    AppIdentity,
    LineSkipped,
    LogRow,
    MalformedLine,
    app_call_fields,
    normalize_app_event,
)
from telemetry.ingest.poller import PollStatus
from telemetry.ingest.services import telemetry_poll_tenant
from telemetry.models import LogsCursor, TelemetryEvent
from tests.telemetry.test_compliance_logs import (
    MARKER,
    WORKSPACE,
    add_file,
    lines,
    poll,
    rows,
    workspace,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.integration

HUB_MCP = "https://api.claresia.com/mcp"


def app_lines(seed, calls=2, **options):
    options.setdefault("start", timezone.now() - timedelta(hours=1))
    return app_log_lines(principal=WORKSPACE, calls=calls, seed=seed, **options)


def add_app_file(sandbox, made, **extra):
    return add_file(sandbox, made, event_type="APP_LOG", **extra)


def app_rows(tenant):
    return rows(tenant).filter(event_type=TelemetryEvent.EventType.APP_CALL)


def cursor_of(tenant, event_type):
    return LogsCursor.objects.get(tenant=tenant, event_type=event_type)


def test_a_call_to_the_claresia_app_is_one_app_call_row(workspace, tenant):  # noqa: F811
    # given: two calls to the hub's MCP app, one to another app
    made = app_lines(1) + app_lines(2, calls=1, app_name="Jira", app_url="https://jira.test/mcp")
    add_app_file(workspace, made)

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.OK
    assert outcome.app_calls == 2 and "2 stored (2 app calls)" in str(outcome)
    first = app_rows(tenant).get(source_event_id="app-1-0")
    assert first.conversation_id == "conv-1-0"
    assert first.gpt_name == "claresia-hub" and first.skill is None
    assert first.actor_email == "ana@example.com"
    assert first.occurred_at == parse_iso(made[0]["timestamp"])
    assert first.raw["app"] == {"id": "app_claresia-hub", "name": "claresia-hub"}
    assert first.raw["tool"] == {"name": "emit_hub_record"}
    assert "arguments" not in str(first.raw) and "result" not in first.raw
    assert app_rows(tenant).count() == 2


def test_app_log_has_its_own_cursor_and_a_repeat_is_stored_once(workspace, tenant):  # noqa: F811
    # given: a conversation file, and the same call delivered in two APP_LOG files
    add_file(workspace, lines(1))
    once = app_lines(1, calls=1)
    add_app_file(workspace, once)
    last = add_app_file(workspace, [once[0], *app_lines(2, calls=1)])

    # when
    outcome = poll(tenant)
    again = poll(tenant)

    # then
    assert outcome.files == 3 and again.files == 0
    assert sorted(app_rows(tenant).values_list("source_event_id", flat=True)) == [
        "app-1-0",
        "app-2-0",
    ]
    app_cursor = cursor_of(tenant, "APP_LOG")
    assert app_cursor.cursor_at == parse_iso(last["end_time"])
    assert app_cursor.last_file_id == last["id"]
    conversations = cursor_of(tenant, "CONVERSATION_MESSAGE")
    assert conversations.cursor_at < app_cursor.cursor_at


def test_a_call_found_by_the_hub_url_alone_is_kept(workspace, tenant, settings):  # noqa: F811
    # given: an app named otherwise, at the tenant's hub MCP URL
    settings.CLARESIA_HUB_BASE_URL = "https://hub.dainese.test/"
    add_app_file(
        workspace, app_lines(1, calls=1, app_name="Records", app_url="https://hub.dainese.test/mcp")
    )
    # when
    poll(tenant)
    # then
    assert app_rows(tenant).count() == 1


def test_a_malformed_app_log_line_is_reported_and_the_rest_kept(workspace, tenant):  # noqa: F811
    made = app_lines(1, calls=2)
    del made[1]["event_id"]
    made_file = add_app_file(workspace, [made[0], made[1]])
    add_app_file(workspace, [], raw="not json\n")

    outcome = poll(tenant)

    assert outcome.status == PollStatus.OK and outcome.malformed == 2
    report = cursor_of(tenant, "APP_LOG").malformed_report
    assert f"file {made_file['id']} line 2: no event_id" in report
    assert app_rows(tenant).count() == 1


def test_app_log_refused_alone_leaves_conversations_flowing(
    workspace,  # noqa: F811
    tenant,
    monkeypatch,
):
    # given: the key may read conversations, not app logs
    add_file(workspace, lines(1))
    add_app_file(workspace, app_lines(1))
    listed = compliance.logs_files

    def logs_files(client, principal, *, event_type, **kwargs):
        if event_type == "APP_LOG":
            raise AdminPermissionError("Missing scopes: api.compliance.app_logs.read", status=403)
        return listed(client, principal, event_type=event_type, **kwargs)

    monkeypatch.setattr(compliance, "logs_files", logs_files)

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.FAILED
    assert outcome.error.startswith("APP_LOG: The ChatGPT Compliance API denied this call (403")
    assert rows(tenant).filter(event_type="invoked").count() == 1
    assert not app_rows(tenant).exists()
    assert cursor_of(tenant, "CONVERSATION_MESSAGE").last_error == ""
    assert "403" in cursor_of(tenant, "APP_LOG").last_error


def test_a_refused_key_is_recorded_on_both_cursors_and_asked_once(workspace, tenant):  # noqa: F811
    # given: the connector's key was revoked after its check passed
    from connectors.services import connector_connect

    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-revoked-now")
    workspace.state.requests.clear()

    # when
    outcome = poll(tenant)

    # then
    assert outcome.status == PollStatus.FAILED and "refused the key" in outcome.error
    assert "APP_LOG" not in outcome.error
    for event_type in ("CONVERSATION_MESSAGE", "APP_LOG"):
        assert "refused the key" in cursor_of(tenant, event_type).last_error
    assert not any("event_type=APP_LOG" in p for _, p, _ in workspace.state.requests)


def test_app_calls_are_not_counted_as_invocations(workspace, tenant):  # noqa: F811
    add_file(workspace, lines(1))
    add_app_file(workspace, app_lines(1, calls=3))
    poll(tenant)
    assert app_rows(tenant).count() == 3

    volume = telemetry_volume(tenant=tenant, period=dashboard_period(now=timezone.now()))

    assert sum(point.invocations for point in volume) == 1


def test_no_argument_or_result_is_stored_logged_or_shown(
    workspace,  # noqa: F811
    tenant,
    client,
    staff,
    caplog,
):
    # given: a marker in the call's arguments
    add_app_file(workspace, app_lines(1, arguments={"skill_id": "x", "output": MARKER}))
    caplog.set_level(logging.DEBUG)

    # when
    call_command("poll_telemetry", "--once", "--tenant=dainese", stdout=io.StringIO())
    client.force_login(staff)
    row = app_rows(tenant).first()
    pages = [
        client.get(f"{reverse('command_center:overview')}?tenant=dainese"),
        client.get(reverse("admin:telemetry_telemetryevent_change", args=[row.pk])),
    ]

    # then
    assert MARKER not in caplog.text
    for page in pages:
        assert page.status_code == 200 and MARKER not in page.content.decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM fn_telemetry_event WHERE raw::text LIKE %s", [f"%{MARKER}%"]
        )
        assert cursor.fetchone()[0] == 0


# ---- the pure core ----------------------------------------------------------------------------

OURS = AppIdentity(frozenset({"claresia-hub", "claresia hub"}), HUB_MCP)


def test_the_core_spells_the_models_event_type():
    assert APP_CALL in TelemetryEvent.EventType.values


def test_app_fields_are_read_defensively_from_other_shapes():
    flat = {"app_name": "Claresia Hub", "tool_name": "emit_hub_record", "conversation_id": "c1"}
    assert app_call_fields(flat)[1:] == ("Claresia Hub", "", "emit_hub_record", "c1")
    nested = {"connector": {"id": "a1", "url": HUB_MCP + "/"}, "action": {"name": "t"}}
    assert app_call_fields(nested) == ("a1", "", HUB_MCP + "/", "t", "")
    junk = {"app": ["x"], "tool": 3, "conversation": "c"}
    assert app_call_fields(junk) == ("", "", "", "", "")


def test_the_core_keeps_only_the_claresia_app_and_needs_an_id_and_a_time():
    line = app_lines(1, calls=1)[0]
    assert isinstance(normalize_app_event(line, ours=OURS, log_file="f", line_no=1), LogRow)
    other = {**line, "app": {"name": "Jira", "url": "https://jira.test/mcp"}}
    assert normalize_app_event(other, ours=OURS, log_file="f", line_no=1) is LineSkipped.OTHER_APP
    wrong_type = {**line, "type": "CONVERSATION_MESSAGE"}
    skipped = normalize_app_event(wrong_type, ours=OURS, log_file="f", line_no=1)
    assert skipped is LineSkipped.OTHER_TYPE
    with pytest.raises(MalformedLine):
        normalize_app_event({**line, "timestamp": "yesterday"}, ours=OURS, log_file="f", line_no=1)


def test_an_idle_app_log_cursor_does_not_hold_reconciliation_back(workspace, tenant, skill):  # noqa: F811
    # given: an app called last five days ago (its cursor there since), then a conversation
    # with no hub record three hours ago
    LogsCursor.objects.create(
        tenant=tenant,
        event_type="APP_LOG",
        principal=str(compliance.Principal.workspace(WORKSPACE)),
        cursor_at=timezone.now() - timedelta(days=5),
    )
    add_file(
        workspace,
        lines(1, gpt_ids=("g-ours",), conversations=1, start=timezone.now() - timedelta(hours=3)),
    )

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then the invocation is checked (the APP_LOG cursor, days behind, is not the limit)
    assert GovernanceEvent.objects.filter(
        tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING
    ).exists()
