"""Part 2's Test connection, a checklist, against the OpenAI sandbox over real HTTP."""

import io

import httpx
import pytest
from django.core.management import CommandError, call_command

from connectors.connection_checks import AUDIT_ONLY_NOTE
from connectors.models import Connector
from connectors.services import connector_connect, connector_test_connection
from tests.factories import COMPLIANCE_KEY

pytestmark = pytest.mark.integration


WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"


def fault(sandbox, **spec):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=spec).raise_for_status()


def lines(connector) -> dict[str, tuple[str, str]]:
    """check → (outcome, detail) of the connector's stored checklist."""
    return {c["check"]: (c["outcome"], c["detail"]) for c in connector.connection_checks}


def test_a_compliance_key_connects(sandbox, connector):
    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.CONNECTED
    assert result.last_error == ""
    assert result.last_tested_at is not None
    assert sandbox.state.requests == [
        ("GET", "/v1/organization/audit_logs", 200),
        ("GET", "/v1/compliance/organizations/org-dainese/logs", 200),
    ]
    assert lines(result)["gpt_inventory"][0] == "skipped"


def test_the_organization_path_is_probed_with_app_log_never_conversations(sandbox, connector):
    # given: the sandbox answers CONVERSATION_MESSAGE on the organization path with a 400
    # naming the workspace route (tests/connectors/sandbox/test_chatgpt_admin.py)

    # when
    result = connector_test_connection(connector=connector)

    # then: the probe there passed, so it asked for a type that path serves
    organization = next(c for c in result.connection_checks if c["check"] == "logs_organization")
    assert organization["outcome"] == "passed"
    assert organization["label"].endswith("APP_LOG)")


def test_without_a_workspace_id_test_connection_says_conversations_need_it(sandbox, connector):
    # when
    result = connector_test_connection(connector=connector)

    # then
    outcome, detail = lines(result)["logs_workspace"]
    assert outcome == "skipped"
    assert "Conversation telemetry" in detail and "needs the ChatGPT workspace id" in detail
    assert "ChatGPT Admin Console" in detail


def test_with_a_workspace_id_every_line_is_checked(sandbox, tenant):
    # given
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=COMPLIANCE_KEY, workspace_id=WORKSPACE
    )

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert {check: outcome for check, (outcome, _) in lines(result).items()} == {
        "audit_log": "passed",
        "logs_organization": "passed",
        "logs_workspace": "passed",
        "gpt_inventory": "passed",
    }
    paths = [path for _, path, _ in sandbox.state.requests]
    assert f"/v1/compliance/workspaces/{WORKSPACE}/gpts" in paths


def test_a_real_admin_key_connects_through_the_logs_platform_though_the_seeds_log_refuses_it(
    sandbox, tenant
):
    # given: a ChatGPT Admin Console key, which the seed's Platform audit log refuses
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-key"
    )

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.CONNECTED
    outcome, detail = lines(result)["audit_log"]
    assert outcome == "failed"
    assert detail.startswith("Admin key is not Compliance scope: re-mint with Compliance scope")
    assert lines(result)["logs_organization"][0] == "passed"
    assert "disables" in str(result.connection_checks) or result.connection_checks[0]["disables"]


def test_only_the_seeds_audit_log_answering_says_no_chatgpt_telemetry_comes_from_it(
    sandbox, tenant
):
    # given: the Logs Platform refuses the key (403), the seed's audit log accepts it
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-compliance-forbidden-key"
    )

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.CONNECTED
    assert lines(result)["logs_organization"][0] == "failed"
    assert AUDIT_ONLY_NOTE in result.last_error


@pytest.mark.parametrize(
    ("org_id", "api_key", "audit_message", "logs_message"),
    [
        (
            "org-dainese",
            "sk-compliance-revoked-key",
            "The Compliance API key is not valid",
            "The ChatGPT Compliance API refused the key (401",
        ),
        (
            "org-dainese-team",
            "sk-compliance-key",
            "Telemetry missing: Compliance API not enabled — upgrade to Enterprise, "
            "or import the per-user audit export",
            "The ChatGPT Compliance API answered 404",
        ),
    ],
)
def test_each_credential_failure_gets_its_own_message_per_line(
    sandbox, tenant, org_id, api_key, audit_message, logs_message
):
    # given
    connector = connector_connect(tenant=tenant, organization_id=org_id, api_key=api_key)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert lines(result)["audit_log"][1].startswith(audit_message)
    assert lines(result)["logs_organization"][1].startswith(logs_message)
    assert api_key not in result.last_error
    assert api_key not in str(result.connection_checks)


def test_a_lasting_429_is_reported_after_the_retries(sandbox, connector):
    # given
    fault(sandbox, status=429, times=None)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert "rate limiting" in lines(result)["audit_log"][1]
    assert "100 requests per minute per route" in lines(result)["logs_organization"][1]
    assert len(sandbox.state.requests) == 6  # three attempts per line


def test_a_passing_429_is_retried_and_connects(sandbox, connector):
    # given
    fault(sandbox, status=429, retry_after="1", times=1)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.CONNECTED


def test_a_lasting_500_is_openai_unavailable_with_the_request_id(sandbox, connector):
    # given
    fault(sandbox, status=503, times=None)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert lines(result)["audit_log"][1].startswith("OpenAI unavailable: HTTP 503 (request id req_")


def test_a_non_json_answer_is_openai_unavailable(sandbox, connector):
    # given
    fault(sandbox, status=200, body="<html>maintenance</html>", times=None)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert lines(result)["audit_log"][1].startswith("OpenAI unavailable: its answer was not JSON")


def test_a_slow_answer_times_out_as_openai_unavailable(sandbox, connector):
    # given
    fault(sandbox, status=None, delay=1.0, times=None)

    # when
    result = connector_test_connection(connector=connector, timeout=0.2)

    # then
    assert lines(result)["audit_log"][1] == "OpenAI unavailable: the request timed out"


def test_a_wrong_api_base_fails_as_openai_unavailable(settings, connector):
    # given: nothing listens on port 9 of loopback
    settings.OPENAI_API_BASE = "http://127.0.0.1:9/v1"

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert lines(result)["audit_log"][1] == "OpenAI unavailable: connection refused"
    assert lines(result)["logs_organization"][1] == "OpenAI unavailable: connection refused"


def test_a_key_written_under_a_removed_encryption_key_asks_for_the_key_again(
    sandbox, connector, settings
):
    # given
    settings.FIELD_ENCRYPTION_KEYS = ["a" * 43 + "="]

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert "paste the Compliance API key again" in result.last_error


def test_the_command_prints_one_line_per_check_and_exits_0_when_connected(sandbox, connector):
    # given
    out = io.StringIO()

    # when
    call_command("test_connection", "--tenant=dainese", stdout=out)

    # then
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("[passed] Platform audit log")
    assert printed[1].startswith("[passed] Compliance Logs Platform, organization org-dainese")
    assert printed[2].startswith("[skipped] Compliance Logs Platform, workspace (none)")
    assert printed[3].startswith("[skipped] GPT inventory")
    assert printed[-1] == "connected: tenant dainese, organization org-dainese"


def test_the_command_exits_non_zero_with_the_reasons_when_nothing_answers(sandbox, tenant):
    # given
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-revoked-key")
    out = io.StringIO()

    # when / then
    with pytest.raises(CommandError, match="not valid"):
        call_command("test_connection", "--tenant=dainese", stdout=out)
    assert out.getvalue().count("[failed]") == 2
