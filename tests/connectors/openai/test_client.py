"""The OpenAI client's retry policy, error mapping and pagination, one fault at a time (respx)."""

import httpx
import pytest
import respx

from connectors.openai import modelled
from connectors.openai.client import OpenAIClient, RetryPolicy
from connectors.openai.errors import (
    AuthenticationError,
    BadRequestError,
    ComplianceAPIDisabledError,
    ConflictError,
    MissingScopeError,
    PublishDisabledError,
    RateLimitedError,
    UnavailableError,
)

BASE = "https://openai.test/v1"
AUDIT = f"{BASE}/organization/audit_logs"
PAGE = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def error(status, code, message="no", headers=None):
    body = {"error": {"message": message, "type": "x", "param": None, "code": code}}
    return httpx.Response(status, json=body, headers=headers or {})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with OpenAIClient(
        api_key="sk-compliance-unit",
        organization_id="org-unit",
        base_url=BASE,
        retry=RetryPolicy(max_attempts=3, initial_backoff=0.5, max_backoff=8.0),
        sleep=sleeps.append,
    ) as client:
        yield client


@respx.mock
def test_every_call_sends_the_key_and_the_organization(client):
    # given
    route = respx.get(AUDIT).mock(return_value=httpx.Response(200, json=PAGE))

    # when
    modelled.audit_logs_page(client, limit=1)

    # then
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer sk-compliance-unit"
    assert request.headers["OpenAI-Organization"] == "org-unit"


@respx.mock
def test_audit_log_queries_use_openais_bracket_encoding(client):
    # given
    route = respx.get(AUDIT).mock(return_value=httpx.Response(200, json=PAGE))

    # when
    modelled.audit_logs_page(
        client, event_types=["gpt.invoked", "gpt.failed"], effective_at={"gte": 1700}, limit=100
    )

    # then
    params = route.calls.last.request.url.params
    assert params.get_list("event_types[]") == ["gpt.invoked", "gpt.failed"]
    assert params["effective_at[gte]"] == "1700"
    assert params["limit"] == "100"


@respx.mock
def test_a_429_with_retry_after_waits_that_long_then_succeeds(client, sleeps):
    # given
    respx.get(AUDIT).mock(
        side_effect=[
            error(429, "rate_limit_exceeded", headers={"Retry-After": "7"}),
            httpx.Response(200, json=PAGE),
        ]
    )

    # when
    page = modelled.audit_logs_page(client, limit=1)

    # then
    assert page == PAGE
    assert sleeps == [7.0]


@respx.mock
def test_a_429_without_retry_after_backs_off_exponentially_with_jitter(client, sleeps):
    # given
    respx.get(AUDIT).mock(
        side_effect=[
            error(429, "rate_limit_exceeded"),
            error(429, "rate_limit_exceeded"),
            httpx.Response(200, json=PAGE),
        ]
    )

    # when
    modelled.audit_logs_page(client, limit=1)

    # then
    first, second = sleeps
    assert 0.375 <= first <= 0.5
    assert 0.75 <= second <= 1.0


@respx.mock
def test_a_retry_after_over_two_minutes_is_not_honoured(client, sleeps):
    # given
    respx.get(AUDIT).mock(
        side_effect=[
            error(429, None, headers={"Retry-After": "600"}),
            httpx.Response(200, json=PAGE),
        ]
    )

    # when
    modelled.audit_logs_page(client, limit=1)

    # then
    assert sleeps[0] <= 0.5


@respx.mock
def test_attempts_are_bounded_and_a_lasting_429_says_so(client, sleeps):
    # given
    route = respx.get(AUDIT).mock(return_value=error(429, "rate_limit_exceeded"))

    # when
    with pytest.raises(RateLimitedError) as raised:
        modelled.audit_logs_page(client, limit=1)

    # then
    assert route.call_count == 3
    assert len(sleeps) == 2
    assert "429 after 3 attempts" in raised.value.user_message


@pytest.mark.parametrize("status", [500, 502, 503, 408])
@respx.mock
def test_server_errors_are_retried(client, status):
    # given
    route = respx.get(AUDIT).mock(
        side_effect=[httpx.Response(status, text="oops"), httpx.Response(200, json=PAGE)]
    )

    # when
    modelled.audit_logs_page(client, limit=1)

    # then
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "invalid_api_key", AuthenticationError),
        (401, "missing_scope", MissingScopeError),
        (403, "compliance_api_disabled", ComplianceAPIDisabledError),
        (403, "gpt_publish_disabled", PublishDisabledError),
        (400, None, BadRequestError),
        (409, "gpt_name_taken", ConflictError),
    ],
)
@respx.mock
def test_client_errors_are_typed_and_never_retried(client, status, code, expected):
    # given
    route = respx.get(AUDIT).mock(return_value=error(status, code))

    # when
    with pytest.raises(expected):
        modelled.audit_logs_page(client, limit=1)

    # then
    assert route.call_count == 1


@respx.mock
def test_a_timeout_becomes_openai_unavailable(client):
    # given
    respx.get(AUDIT).mock(side_effect=httpx.ReadTimeout("slow"))

    # when
    with pytest.raises(UnavailableError) as raised:
        modelled.audit_logs_page(client, limit=1)

    # then
    assert raised.value.user_message == "OpenAI unavailable: the request timed out"


@respx.mock
def test_a_refused_connection_becomes_openai_unavailable(client):
    # given
    respx.get(AUDIT).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))

    # when
    with pytest.raises(UnavailableError) as raised:
        modelled.audit_logs_page(client, limit=1)

    # then
    assert raised.value.user_message == "OpenAI unavailable: connection refused"


@respx.mock
def test_an_unresolvable_host_becomes_openai_unavailable(client):
    # given
    respx.get(AUDIT).mock(side_effect=httpx.ConnectError("[Errno -2] Name or service not known"))

    # when
    with pytest.raises(UnavailableError) as raised:
        modelled.audit_logs_page(client, limit=1)

    # then
    assert "could not resolve the host name" in raised.value.user_message


@respx.mock
def test_a_non_json_body_is_retried_then_unavailable_with_the_request_id(client):
    # given
    route = respx.get(AUDIT).mock(
        return_value=httpx.Response(
            200, text="<html>gateway</html>", headers={"x-request-id": "req_42"}
        )
    )

    # when
    with pytest.raises(UnavailableError) as raised:
        modelled.audit_logs_page(client, limit=1)

    # then
    assert route.call_count == 3
    assert raised.value.user_message == (
        "OpenAI unavailable: its answer was not JSON (request id req_42)"
    )


@respx.mock
def test_an_error_message_quoting_the_key_is_redacted(client):
    # given
    respx.get(AUDIT).mock(
        return_value=error(401, "invalid_api_key", "Incorrect API key provided: sk-compliance-unit")
    )

    # when
    with pytest.raises(AuthenticationError) as raised:
        modelled.audit_logs_page(client, limit=1)

    # then
    assert "sk-compliance-unit" not in raised.value.message
    assert "sk-compliance-unit" not in str(raised.value)


@respx.mock
def test_pagination_follows_last_id_until_has_more_is_false(client):
    # given
    pages = [
        {**PAGE, "data": [{"id": "a"}, {"id": "b"}], "last_id": "b", "has_more": True},
        {**PAGE, "data": [{"id": "c"}], "last_id": "c", "has_more": False},
    ]
    route = respx.get(AUDIT).mock(side_effect=[httpx.Response(200, json=p) for p in pages])

    # when
    ids = [e["id"] for page in modelled.audit_logs_pages(client, limit=2) for e in page["data"]]

    # then
    assert ids == ["a", "b", "c"]
    assert route.calls[1].request.url.params["after"] == "b"
    assert route.calls[1].request.url.params["limit"] == "2"
