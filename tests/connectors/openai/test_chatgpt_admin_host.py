"""The one client on the real Compliance API host: no organization header, errors by status
only, pacing per route, Retry-After, and the 307 download that never carries the key (respx)."""

import httpx
import pytest
import respx

from connectors.openai import chatgpt_admin
from connectors.openai import client as openai_client
from connectors.openai.client import Host, OpenAIClient, RetryPolicy, RoutePacer
from connectors.openai.errors import (
    AdminKeyRefusedError,
    AdminNotFoundError,
    AdminPermissionError,
    RateLimitedError,
    UnavailableError,
)

BASE = "https://chatgpt.test/v1"
ORG = chatgpt_admin.Principal.organization("org-unit")
LOGS = f"{BASE}/compliance/organizations/org-unit/logs"
EMPTY = {"data": [], "has_more": False, "last_end_time": None}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with OpenAIClient(
        api_key="sk-admin-unit",
        host=Host.CHATGPT_ADMIN,
        base_url=BASE,
        retry=RetryPolicy(max_attempts=3, initial_backoff=0.5, max_backoff=8.0),
        sleep=sleeps.append,
    ) as client:
        yield client


def list_logs(client):
    return chatgpt_admin.logs_page(
        client, ORG, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z"
    )


@respx.mock
def test_the_real_host_gets_the_key_and_no_organization_header(client):
    # given
    route = respx.get(LOGS).mock(return_value=httpx.Response(200, json=EMPTY))

    # when
    list_logs(client)

    # then
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer sk-admin-unit"
    assert "OpenAI-Organization" not in request.headers
    assert request.url.params["event_type"] == "CONVERSATION_MESSAGE"
    assert request.url.params["after"] == "2026-11-01T00:00:00Z"


@pytest.mark.parametrize(
    ("status", "code", "error", "words"),
    [
        (401, None, AdminKeyRefusedError, "Admin Console → Credentials → Admin keys"),
        # A code the seed's table knows must not change the real host's meaning.
        (401, "missing_scope", AdminKeyRefusedError, "missing, invalid or revoked"),
        (403, "compliance_api_disabled", AdminPermissionError, "lacks the permission"),
        (404, None, AdminNotFoundError, "Enterprise and Edu only"),
    ],
)
@respx.mock
def test_errors_of_the_real_host_are_mapped_by_status_alone(client, status, code, error, words):
    # given
    body = {"error": {"message": "Missing scopes: logs.read", "type": "x", "code": code}}
    respx.get(LOGS).mock(return_value=httpx.Response(status, json=body))

    # when
    with pytest.raises(error) as caught:
        list_logs(client)

    # then
    assert words in caught.value.user_message


@respx.mock
def test_a_404_without_a_json_body_still_says_what_a_404_means(client):
    # given
    respx.get(LOGS).mock(return_value=httpx.Response(404, text="<html>nope</html>"))

    # when / then
    with pytest.raises(AdminNotFoundError):
        list_logs(client)


@respx.mock
def test_a_429_honours_retry_after_then_says_the_limit(client, sleeps):
    # given
    respx.get(LOGS).mock(
        return_value=httpx.Response(
            429, json={"error": {"message": "slow"}}, headers={"Retry-After": "7"}
        )
    )

    # when
    with pytest.raises(RateLimitedError) as caught:
        list_logs(client)

    # then
    assert sleeps == [7.0, 7.0]
    assert "100 requests per minute per route" in caught.value.user_message


@respx.mock
def test_a_5xx_is_retried_then_unavailable(client, sleeps):
    # given
    route = respx.get(LOGS).mock(return_value=httpx.Response(503))

    # when / then
    with pytest.raises(UnavailableError):
        list_logs(client)
    assert route.call_count == 3


def test_the_pacer_holds_each_route_to_its_per_minute_limit():
    # given
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    pacer = RoutePacer(per_minute=3, clock=lambda: now[0], sleep=sleep)

    # when
    for _ in range(3):
        pacer.wait("GET logs")
    pacer.wait("GET other")
    waited = pacer.wait("GET logs")

    # then
    assert slept == [60.0]
    assert waited == 60.0


@respx.mock
def test_the_download_follows_the_307_without_the_key(client, monkeypatch):
    # given: the signed host resolves to a public address
    monkeypatch.setattr(openai_client, "_resolve", lambda host, port: {"93.184.215.14"})
    respx.get(f"{LOGS}/file-1").mock(
        return_value=httpx.Response(
            307, headers={"Location": "https://files.test/signed/abc?sig=1"}
        )
    )
    signed = respx.get("https://files.test/signed/abc").mock(
        return_value=httpx.Response(200, content=b'{"event_id": "e1"}\n')
    )

    # when
    with chatgpt_admin.log_file_open(client, ORG, "file-1") as chunks:
        body = b"".join(chunks)

    # then
    assert body == b'{"event_id": "e1"}\n'
    request = signed.calls.last.request
    assert "Authorization" not in request.headers
    assert request.url.params["sig"] == "1"


@respx.mock
def test_a_download_that_does_not_redirect_is_unavailable(client):
    # given
    respx.get(f"{LOGS}/file-1").mock(return_value=httpx.Response(200, json={}))

    # when / then
    with (
        pytest.raises(UnavailableError, match="redirect"),
        chatgpt_admin.log_file_open(client, ORG, "file-1"),
    ):
        pass


@respx.mock
def test_list_paging_follows_last_end_time_and_stops_when_it_does_not_advance(client):
    # given
    pages = [
        {"data": [{"id": "a"}], "has_more": True, "last_end_time": "2026-11-02T00:00:00Z"},
        {"data": [{"id": "b"}], "has_more": True, "last_end_time": "2026-11-02T00:00:00Z"},
    ]
    respx.get(LOGS).mock(side_effect=[httpx.Response(200, json=p) for p in pages])

    # when
    seen = []
    with pytest.raises(Exception, match="does not advance"):
        for item in chatgpt_admin.logs_files(
            client, ORG, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z"
        ):
            seen.append(item["id"])

    # then
    assert seen == ["a", "b"]
