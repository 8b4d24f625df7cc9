"""Part 2's Test connection against the OpenAI sandbox over real HTTP."""

import httpx
import pytest

from connectors.models import Connector
from connectors.services import connector_connect, connector_test_connection

pytestmark = pytest.mark.integration


def fault(sandbox, **spec):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=spec).raise_for_status()


def test_a_compliance_key_connects(sandbox, connector):
    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.CONNECTED
    assert result.last_error == ""
    assert result.last_tested_at is not None
    assert sandbox.state.requests == [("GET", "/v1/organization/audit_logs", 200)]


@pytest.mark.parametrize(
    ("org_id", "api_key", "message"),
    [
        (
            "org-dainese",
            "sk-admin-regular-key",
            "Admin key is not Compliance scope: re-mint with Compliance scope",
        ),
        ("org-dainese", "sk-compliance-revoked-key", "The Compliance API key is not valid"),
        (
            "org-dainese-team",
            "sk-compliance-key",
            "Telemetry missing: Compliance API not enabled — upgrade to Enterprise, "
            "or import the per-user audit export",
        ),
    ],
)
def test_each_credential_failure_gets_its_own_message(sandbox, tenant, org_id, api_key, message):
    # given
    connector = connector_connect(tenant=tenant, organization_id=org_id, api_key=api_key)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert result.last_error.startswith(message)
    assert api_key not in result.last_error


def test_a_lasting_429_is_reported_after_the_retries(sandbox, connector):
    # given
    fault(sandbox, status=429, times=None)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert "rate limiting" in result.last_error
    assert len(sandbox.state.requests) == 3


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
    assert result.last_error.startswith("OpenAI unavailable: HTTP 503 (request id req_")


def test_a_non_json_answer_is_openai_unavailable(sandbox, connector):
    # given
    fault(sandbox, status=200, body="<html>maintenance</html>", times=None)

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.last_error.startswith("OpenAI unavailable: its answer was not JSON")


def test_a_slow_answer_times_out_as_openai_unavailable(sandbox, connector):
    # given
    fault(sandbox, status=None, delay=1.0, times=None)

    # when
    result = connector_test_connection(connector=connector, timeout=0.2)

    # then
    assert result.last_error == "OpenAI unavailable: the request timed out"


def test_a_wrong_api_base_fails_as_openai_unavailable(settings, connector):
    # given: nothing listens on port 9 of loopback
    settings.OPENAI_API_BASE = "http://127.0.0.1:9/v1"

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert result.last_error == "OpenAI unavailable: connection refused"


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
