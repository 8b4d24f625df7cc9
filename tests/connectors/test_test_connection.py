"""Part 2's Test connection against the OpenAI sandbox over real HTTP."""

import pytest

from connectors.models import Connector
from connectors.services import connector_test_connection

pytestmark = pytest.mark.integration


def test_a_compliance_key_connects(sandbox, connector):
    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.CONNECTED
    assert result.last_error == ""
    assert result.last_tested_at is not None
    assert sandbox.state.requests == [("GET", "/v1/organization/audit_logs", 200)]
