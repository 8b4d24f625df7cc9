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

from connectors.openai import chatgpt_admin
from connectors.openai.errors import AdminPermissionError
from connectors.sandbox.chatgpt_admin import app_log_lines, parse_iso
from connectors.selectors import connector_of
from telemetry.dashboard import dashboard_period, telemetry_volume
from telemetry.hub.models import GovernanceEvent
from telemetry.ingest.outcome import PollStatus
from telemetry.ingest.services import telemetry_poll_tenant
from telemetry.ingest.sources.logs_platform.normalizer import (
    APP_CALL,
    AppIdentity,
    LineSkipped,
    LogRow,
    MalformedLine,
    app_call_fields,
    normalize_app_event,
)
from telemetry.models import LogsCursor, TelemetryEvent
from tests.telemetry.ingest.sources.logs_platform.test_poller import (
    MARKER,
    WORKSPACE,
    add_file,
    lines,
    poll,
    rows,
    workspace,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.integration


def app_lines(seed, calls=2, **options):
    options.setdefault("start", timezone.now() - timedelta(hours=1))
    return app_log_lines(principal=WORKSPACE, calls=calls, seed=seed, **options)


def add_app_file(sandbox, made, **extra):
    return add_file(sandbox, made, event_type="APP_LOG", **extra)


def app_rows(tenant):
    return rows(tenant).filter(event_type=TelemetryEvent.EventType.APP_CALL)


def cursor_of(tenant, event_type):
    return LogsCursor.objects.get(tenant=tenant, event_type=event_type)


def test_a_call_to_the_claresia_app_is_one_app_call_row_from_its_response_line(
    workspace,  # noqa: F811
    tenant,
):
    # given: two calls to the hub's MCP app (request + response lines each), one to another app
    made = app_lines(1) + app_lines(2, calls=1, app_name="Jira", app_id="asdk_app_jira")
    add_app_file(workspace, made)

    # when
    outcome = poll(tenant)

    # then: one row per call, the request lines skipped (not malformed)
    assert outcome.status == PollStatus.OK and outcome.malformed == 0
    assert outcome.app_calls == 2 and "2 stored (2 app calls)" in str(outcome)
    assert outcome.skipped == 4  # two request lines, and the other app's two lines
    first = app_rows(tenant).get(source_event_id="app-1-0")
    assert first.conversation_id == "conv-1-0"
    assert first.gpt_name == "claresia-hub" and first.skill is None
    assert first.actor_email == "ana@example.com"
    assert first.occurred_at == parse_iso(made[1]["timestamp"])
    assert first.raw["log_type"] == "response"
    assert first.raw["app"] == {
        "id": "asdk_app_claresia0hub",
        "name": "claresia-hub",
        "type": "MCP",
    }
    assert first.raw["tool"] == {"name": "emit_hub_record"}
    assert "input" not in first.raw and "content" not in str(first.raw)
    assert app_rows(tenant).count() == 2


def test_a_call_whose_result_is_an_error_is_a_failure_with_its_latency(workspace, tenant):  # noqa: F811
    # given: the second call answers isError
    add_app_file(workspace, app_lines(1, calls=2, failed={1}, latency_ms=1200))

    # when
    poll(tenant)

    # then
    ok, failed = (
        app_rows(tenant).get(source_event_id="app-1-0"),
        app_rows(tenant).get(source_event_id="app-1-1"),
    )
    assert (ok.error_code, ok.latency_ms) == ("", 1200)
    assert failed.error_code == "tool_error" and failed.latency_ms == 1201
    assert "isError" in failed.error_message
    assert failed.raw["result"] == {"isError": True}


def test_the_app_id_is_learned_from_the_first_call_by_name_and_then_known_by_it(
    workspace,  # noqa: F811
    tenant,
):
    # given: no app id set; a first call by the configured name, then the same app renamed,
    # then another MCP app given the same name
    add_app_file(workspace, app_lines(1, calls=1))
    add_app_file(workspace, app_lines(2, calls=1, app_name="Records of Dainese"))
    add_app_file(workspace, app_lines(3, calls=1, app_id="asdk_app_impostor"))

    # when
    poll(tenant)

    # then
    assert connector_of(tenant=tenant).app_id == "asdk_app_claresia0hub"
    assert sorted(app_rows(tenant).values_list("source_event_id", flat=True)) == [
        "app-1-0",
        "app-2-0",
    ]


def test_the_admins_app_id_wins_over_the_name(workspace, tenant):  # noqa: F811
    # given
    connector = connector_of(tenant=tenant)
    connector.app_id = "asdk_app_dainese"
    connector.save(update_fields=["app_id"])
    add_app_file(workspace, app_lines(1, calls=1, app_id="asdk_app_dainese", app_name="Records"))
    add_app_file(workspace, app_lines(2, calls=1))

    # when
    poll(tenant)

    # then
    assert list(app_rows(tenant).values_list("source_event_id", flat=True)) == ["app-1-0"]


def test_an_app_by_the_name_that_is_not_an_mcp_app_is_not_ours(workspace, tenant):  # noqa: F811
    # given
    add_app_file(workspace, app_lines(1, calls=1, app_type="OPEN_API"))

    # when
    outcome = poll(tenant)

    # then
    assert not app_rows(tenant).exists() and outcome.skipped == 2
    assert connector_of(tenant=tenant).app_id == ""


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


def test_a_malformed_app_log_line_is_reported_and_the_rest_kept(workspace, tenant):  # noqa: F811
    made = app_lines(1, calls=2)
    del made[3]["event_id"]
    made_file = add_app_file(workspace, made)
    add_app_file(workspace, [], raw="not json\n")

    outcome = poll(tenant)

    assert outcome.status == PollStatus.OK and outcome.malformed == 2
    report = cursor_of(tenant, "APP_LOG").malformed_report
    assert f"file {made_file['id']} line 4: no event_id" in report
    assert app_rows(tenant).count() == 1


def test_app_log_refused_alone_leaves_conversations_flowing(
    workspace,  # noqa: F811
    tenant,
    monkeypatch,
):
    # given: the key may read conversations, not app logs
    add_file(workspace, lines(1))
    add_app_file(workspace, app_lines(1))
    listed = chatgpt_admin.logs_files

    def logs_files(client, principal, *, event_type, **kwargs):
        if event_type == "APP_LOG":
            raise AdminPermissionError(
                "Missing scopes: api.chatgpt_admin.app_logs.read", status=403
            )
        return listed(client, principal, event_type=event_type, **kwargs)

    monkeypatch.setattr(chatgpt_admin, "logs_files", logs_files)

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


def test_no_argument_location_or_result_is_stored_logged_or_shown(
    workspace,  # noqa: F811
    tenant,
    client,
    staff,
    caplog,
):
    # given: markers in the call's arguments, the user's location and the tool's result
    place = {"city": f"{MARKER}-city", "latitude": 45.1234567, "longitude": 12.7654321}
    made = app_lines(
        1, calls=2, arguments={"skill_id": "x", "output": MARKER}, location=place, content=MARKER
    )
    add_app_file(workspace, made)
    caplog.set_level(logging.DEBUG)
    markers = (MARKER, "45.1234567", "12.7654321")

    # when
    call_command("poll_telemetry", "--once", "--tenant=dainese", stdout=io.StringIO())
    client.force_login(staff)
    row = app_rows(tenant).first()
    pages = [
        client.get(f"{reverse('command_center:overview')}?tenant=dainese"),
        client.get(reverse("admin:telemetry_telemetryevent_change", args=[row.pk])),
    ]

    # then: in no log, page, column of any stored row (its text columns and raw jsonb) or cursor
    assert app_rows(tenant).count() == 2
    for marker in markers:
        assert marker not in caplog.text
        for page in pages:
            assert page.status_code == 200 and marker not in page.content.decode()
        with connection.cursor() as cursor:
            for table in ("fn_telemetry_event", "telemetry_logscursor"):
                cursor.execute(
                    f"SELECT count(*) FROM {table} AS t WHERE t::text LIKE %s",  # noqa: S608
                    [f"%{marker}%"],
                )
                assert cursor.fetchone()[0] == 0, (table, marker)


# ---- the pure core ----------------------------------------------------------------------------

OURS = AppIdentity("", frozenset({"claresia-hub", "claresia hub"}))


def core(line, ours=OURS):
    return normalize_app_event(line, ours=ours, log_file="f", line_no=1)


def test_the_core_spells_the_models_event_type():
    assert APP_CALL in TelemetryEvent.EventType.values


def test_the_core_reads_the_real_fields_and_nothing_of_input_or_content():
    # given
    request, response = app_lines(1, calls=1, failed={0})

    # when
    fields = app_call_fields(response)

    # then
    assert fields == (
        "asdk_app_claresia0hub",
        "claresia-hub",
        "MCP",
        "response",
        "conv-1-0",
        "emit_hub_record",
        True,
        420,
        False,
    )
    assert app_call_fields(request).tool_name == ""
    junk = {"app_id": ["x"], "output": "y", "log_type": 3}
    assert app_call_fields(junk)[:6] == ("", "", "", "", "", "")


def test_a_latency_that_is_not_a_number_in_range_is_dropped_and_said():
    _, response = app_lines(1, calls=1)
    for bad in (-1, 2**40, "fast", True, float("nan")):
        response["output"][0]["response"]["internal"]["external_call_time_ms"] = bad
        row = core(response)
        assert row.latency_ms is None and row.dropped_fields == "latency_ms"


def test_the_core_keeps_only_the_response_line_of_the_claresia_app():
    request, response = app_lines(1, calls=1)
    assert isinstance(core(response), LogRow)
    assert core(request) is LineSkipped.APP_REQUEST
    assert core({**response, "app_name": "Jira"}) is LineSkipped.OTHER_APP
    assert core({**response, "type": "CONVERSATION_MESSAGE"}) is LineSkipped.OTHER_TYPE
    known = OURS._replace(app_id="asdk_app_other")
    assert core(response, known) is LineSkipped.OTHER_APP
    with pytest.raises(MalformedLine):
        core({**response, "timestamp": "yesterday"})
    with pytest.raises(MalformedLine, match="no calendar"):
        core({**response, "timestamp": "9999-12-31T23:59:59-14:00"})


def test_an_idle_app_log_cursor_does_not_hold_reconciliation_back(workspace, tenant, skill):  # noqa: F811
    # given: an app called last five days ago (its cursor there since), then a conversation
    # with no hub record three hours ago
    LogsCursor.objects.create(
        tenant=tenant,
        event_type="APP_LOG",
        principal=str(chatgpt_admin.Principal.workspace(WORKSPACE)),
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
