"""The sandbox's real Compliance API keeps `chatgpt-admin-api.md`, over real HTTP: paging by
`last_end_time`, the 307 to a signed URL that refuses a key, sha256, at-least-once and late
files, the per-route rate limit with Retry-After, and 401/403/404 by credential."""

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.openai import chatgpt_admin
from connectors.openai.client import Host, OpenAIClient, RetryPolicy
from connectors.openai.errors import (
    AdminKeyRefusedError,
    AdminNotFoundError,
    AdminPermissionError,
    RateLimitedError,
)
from connectors.sandbox.chatgpt_admin import app_log_lines, conversation_lines, gpt_object

pytestmark = pytest.mark.integration

WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
WS = chatgpt_admin.Principal.workspace(WORKSPACE)
KEY = "sk-admin-sandbox"
START = datetime(2026, 11, 20, tzinfo=UTC)


def client_for(sandbox, key=KEY, **options) -> OpenAIClient:
    return OpenAIClient(api_key=key, host=Host.CHATGPT_ADMIN, base_url=sandbox.api_base, **options)


def add_file(sandbox, lines, principal=WORKSPACE, **extra) -> dict:
    body = {"principal": principal, "event_type": "CONVERSATION_MESSAGE", "lines": lines, **extra}
    response = httpx.post(f"{sandbox.url}/_sandbox/compliance/logs", json=body)
    response.raise_for_status()
    return response.json()


def lines(seed, conversations=2):
    return conversation_lines(
        principal=WORKSPACE, conversations=conversations, gpt_ids=["g-1"], start=START, seed=seed
    )


def test_files_are_listed_in_end_time_order_and_paged_by_last_end_time(sandbox):
    # given
    for n in range(5):
        add_file(sandbox, lines(n), end_time=(START + timedelta(minutes=5 - n)).isoformat())

    # when
    with client_for(sandbox) as client:
        first = chatgpt_admin.logs_page(
            client, WS, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z", limit=2
        )
        every = list(
            chatgpt_admin.logs_files(
                client, WS, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z", limit=2
            )
        )

    # then
    assert first["has_more"] is True
    assert first["last_end_time"] == first["data"][-1]["end_time"]
    ends = [f["end_time"] for f in every]
    assert ends == sorted(ends) and len(ends) == 5
    assert set(every[0]) == {
        "id",
        "event_type",
        "end_time",
        "file_name",
        "file_size",
        "file_sha256",
    }


def test_after_is_exclusive_and_required(sandbox):
    # given
    made = add_file(sandbox, lines(1))

    # when
    with client_for(sandbox) as client:
        page = chatgpt_admin.logs_page(
            client, WS, event_type="CONVERSATION_MESSAGE", after=made["end_time"]
        )
    missing = httpx.get(
        f"{sandbox.api_base}/compliance/workspaces/{WORKSPACE}/logs",
        params={"event_type": "CONVERSATION_MESSAGE"},
        headers={"Authorization": f"Bearer {KEY}"},
    )

    # then
    assert page["data"] == []
    assert missing.status_code == 422


def test_a_download_is_a_307_to_a_signed_url_that_refuses_an_authorization_header(sandbox):
    # given
    made = add_file(sandbox, lines(1))
    url = f"{sandbox.api_base}/compliance/workspaces/{WORKSPACE}/logs/{made['id']}"

    # when
    redirect = httpx.get(url, headers={"Authorization": f"Bearer {KEY}"})
    location = redirect.headers["location"]
    with_key = httpx.get(location, headers={"Authorization": f"Bearer {KEY}"})
    without_key = httpx.get(location)

    # then
    assert redirect.status_code == 307
    assert "/_signed/" in location
    assert with_key.status_code == 400
    assert without_key.status_code == 200
    assert hashlib.sha256(without_key.content).hexdigest() == made["file_sha256"]


def test_the_client_downloads_through_the_307_and_a_corrupted_download_mismatches(sandbox):
    # given
    made = add_file(sandbox, lines(1))
    httpx.post(
        f"{sandbox.url}/_sandbox/compliance/logs/{made['id']}/corrupt", json={"times": 1}
    ).raise_for_status()

    # when
    digests = []
    with client_for(sandbox) as client:
        for _ in range(2):
            with chatgpt_admin.log_file_open(client, WS, made["id"]) as chunks:
                digests.append(hashlib.sha256(b"".join(chunks)).hexdigest())

    # then
    assert digests[0] != made["file_sha256"]
    assert digests[1] == made["file_sha256"]


def test_the_same_event_can_be_in_two_files_and_a_late_file_holds_old_events(sandbox):
    # given
    early = lines(1)
    add_file(sandbox, early)
    late = add_file(sandbox, [early[0], *lines(2)])

    # when
    with client_for(sandbox) as client:
        files = list(
            chatgpt_admin.logs_files(
                client, WS, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z"
            )
        )
        bodies = []
        for file in files:
            with chatgpt_admin.log_file_open(client, WS, file["id"]) as chunks:
                bodies.append(b"".join(chunks))

    # then
    assert files[-1]["id"] == late["id"]
    assert all(early[0]["event_id"].encode() in body for body in bodies)


def test_max_event_time_answers_the_newest_event(sandbox):
    # given
    add_file(sandbox, lines(1))

    # when
    with client_for(sandbox) as client:
        newest = chatgpt_admin.max_event_time(client, WS, event_type="CONVERSATION_MESSAGE")

    # then
    assert newest == lines(1)[-1]["timestamp"]


def test_the_rate_limit_is_per_route_with_retry_after(sandbox):
    # given
    httpx.post(f"{sandbox.url}/_sandbox/compliance/rate_limit", json={"per_minute": 2})
    url = f"{sandbox.api_base}/compliance/workspaces/{WORKSPACE}"
    headers = {"Authorization": f"Bearer {KEY}"}
    params = {"event_type": "CONVERSATION_MESSAGE", "after": "2026-11-01T00:00:00Z"}

    # when
    statuses = [httpx.get(f"{url}/logs", params=params, headers=headers) for _ in range(3)]
    other_route = httpx.get(f"{url}/gpts", headers=headers)

    # then
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1
    assert other_route.status_code == 200


def test_the_client_gives_up_on_a_lasting_rate_limit_with_the_contracts_words(sandbox):
    # given
    httpx.post(f"{sandbox.url}/_sandbox/compliance/rate_limit", json={"per_minute": 1})
    slept = []

    # when
    with (
        client_for(sandbox, retry=RetryPolicy(max_attempts=2), sleep=slept.append) as client,
        pytest.raises(RateLimitedError) as caught,
    ):
        for _ in range(2):
            chatgpt_admin.logs_page(
                client, WS, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z"
            )

    # then
    assert slept and slept[0] >= 1
    assert "100 requests per minute per route" in caught.value.user_message


@pytest.mark.parametrize(
    ("key", "principal", "error"),
    [
        ("sk-revoked-key", WS, AdminKeyRefusedError),
        ("sk-noscope-key", WS, AdminKeyRefusedError),
        ("sk-forbidden-key", WS, AdminPermissionError),
        (
            KEY,
            chatgpt_admin.Principal.workspace("ffffffff-0000-4000-8000-000000000000"),
            AdminPermissionError,
        ),
        (
            KEY,
            chatgpt_admin.Principal.workspace("00000000-0000-4000-8000-000000000000"),
            AdminNotFoundError,
        ),
        (KEY, chatgpt_admin.Principal.organization("org-dainese-team"), AdminNotFoundError),
    ],
)
def test_credentials_choose_401_403_404(sandbox, key, principal, error):
    # when / then
    with client_for(sandbox, key=key) as client, pytest.raises(error):
        chatgpt_admin.logs_page(
            client, principal, event_type="CONVERSATION_MESSAGE", after="2026-11-01T00:00:00Z"
        )


def test_the_gpt_inventory_lists_the_workspaces_gpts_in_the_real_shape(sandbox):
    # given
    gpts = [gpt_object(gpt_id=f"g-{n:03d}", name=f"claresia-dainese-s{n}") for n in range(150)]
    httpx.post(
        f"{sandbox.url}/_sandbox/compliance/gpts/{WORKSPACE}", json={"gpts": gpts}
    ).raise_for_status()

    # when
    with client_for(sandbox) as client:
        listed = list(chatgpt_admin.gpts_pages(client, WORKSPACE))

    # then
    assert len(listed) == 150
    config = listed[0]["latest_config"]["data"][0]
    assert {"name", "description", "tools", "version_author"} <= set(config)
    assert listed[0]["sharing"]["visibility"] == "workspace"


def test_the_organization_path_refuses_conversations_with_a_400_naming_the_workspace_route(
    sandbox,
):
    # given
    add_file(sandbox, lines(1), principal="org-dainese")
    params = {"event_type": "CONVERSATION_MESSAGE", "after": "2026-11-01T00:00:00Z"}

    # when
    listed = httpx.get(
        f"{sandbox.api_base}/compliance/organizations/org-dainese/logs",
        params=params,
        headers={"Authorization": f"Bearer {KEY}"},
    )
    newest = httpx.get(
        f"{sandbox.api_base}/compliance/organizations/org-dainese/max_event_time",
        params={"event_type": "CONVERSATION_MESSAGE"},
        headers={"Authorization": f"Bearer {KEY}"},
    )

    # then
    for answer in (listed, newest):
        assert answer.status_code == 400
        assert "/v1/compliance/workspaces/{workspace_id}/logs" in answer.json()["error"]["message"]


def test_the_organization_path_serves_app_log(sandbox):
    # given
    made = add_file(
        sandbox,
        app_log_lines(principal="org-dainese", calls=1, start=START),
        principal="org-dainese",
        event_type="APP_LOG",
    )

    # when
    with client_for(sandbox) as client:
        page = chatgpt_admin.logs_page(
            client,
            chatgpt_admin.Principal.organization("org-dainese"),
            event_type="APP_LOG",
            after="2026-11-01T00:00:00Z",
        )

    # then
    assert [file["id"] for file in page["data"]] == [made["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"after": "2026-11-01T00:00:00Z"},
        {"event_type": "NOT_A_TYPE", "after": "2026-11-01T00:00:00Z"},
        {"event_type": "APP_LOG", "after": "yesterday"},
        {"event_type": "APP_LOG", "after": "2026-11-01T00:00:00Z", "limit": "0"},
    ],
)
def test_a_bad_parameter_is_a_422(sandbox, params):
    # when
    answer = httpx.get(
        f"{sandbox.api_base}/compliance/workspaces/{WORKSPACE}/logs",
        params=params,
        headers={"Authorization": f"Bearer {KEY}"},
    )

    # then
    assert answer.status_code == 422


def test_app_log_lines_are_a_request_then_a_response_with_the_users_location():
    # when
    request, response = app_log_lines(principal=WORKSPACE, calls=1, start=START, failed={0})

    # then
    assert (request["log_type"], response["log_type"]) == ("request", "response")
    assert request["event_id"] != response["event_id"]
    assert {"city", "latitude", "longitude"} <= set(
        request["input"]["_meta"]["openai/userLocation"]
    )
    assert "input" not in response
    call = response["output"][0]["response"]
    assert call["action_name"] == "emit_hub_record"
    assert call["result"]["isError"] is True and call["result"]["content"]
    assert call["internal"]["external_call_time_ms"] == 420
    for line in (request, response):
        assert line["app_id"].startswith("asdk_app_") and line["app_type"] == "MCP"
