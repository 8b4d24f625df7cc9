"""The OpenAI sandbox keeps the contract: pagination, filters, errors, GPTs, faults."""

import httpx
import pytest

from connectors.openai import modelled
from connectors.openai.client import OpenAIClient
from connectors.openai.errors import (
    AuthenticationError,
    BadRequestError,
    ComplianceAPIDisabledError,
    ConflictError,
    MissingScopeError,
    NotFoundError,
    PublishDisabledError,
)
from connectors.sandbox.state import generate_events

pytestmark = pytest.mark.integration

ORG = "org-sandbox"
KEY = "sk-compliance-sandbox"


def client_for(sandbox, key=KEY, org=ORG) -> OpenAIClient:
    return OpenAIClient(api_key=key, organization_id=org, base_url=sandbox.api_base)


def seed(sandbox, events, org=ORG):
    httpx.post(
        f"{sandbox.url}/_sandbox/events", json={"org": org, "events": events}
    ).raise_for_status()


def event(n, at, kind="gpt.invoked", gpt="claresia-dainese-prd-review"):
    return {
        "id": f"audit_log-{n:04d}",
        "type": kind,
        "effective_at": at,
        kind: {"gpt_name": gpt, "conversation_id": f"conv-{n}"},
    }


def test_audit_logs_page_newest_first_across_pages(sandbox):
    # given
    seed(sandbox, [event(n, 1000 + n // 2) for n in range(25)])

    # when
    with client_for(sandbox) as client:
        pages = list(modelled.audit_logs_pages(client, limit=10))

    # then
    ids = [e["id"] for page in pages for e in page["data"]]
    assert [len(p["data"]) for p in pages] == [10, 10, 5]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert ids == [f"audit_log-{n:04d}" for n in reversed(range(25))]
    assert pages[0]["first_id"] == "audit_log-0024"
    assert pages[0]["last_id"] == "audit_log-0015"


def test_effective_at_bounds_and_event_types_filter(sandbox):
    # given
    seed(sandbox, [event(1, 100), event(2, 200, "gpt.failed"), event(3, 300), event(4, 400)])
    seed(sandbox, [{"id": "audit_log-x", "type": "login.succeeded", "effective_at": 250}])

    # when
    with client_for(sandbox) as client:
        page = modelled.audit_logs_page(
            client,
            event_types=["gpt.invoked", "gpt.failed"],
            effective_at={"gte": 200, "lt": 400},
            limit=100,
        )

    # then
    assert [e["id"] for e in page["data"]] == ["audit_log-0003", "audit_log-0002"]


def test_the_seeds_own_query_form_is_accepted(sandbox):
    # given
    seed(sandbox, [event(1, 100), event(2, 200, "gpt.failed"), event(3, 300)])
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Organization": ORG}

    # when
    response = httpx.get(
        f"{sandbox.api_base}/organization/audit_logs",
        params={"event_types": "gpt.invoked,gpt.failed", "since": 200},
        headers=headers,
    )

    # then
    assert [e["id"] for e in response.json()["data"]] == ["audit_log-0003", "audit_log-0002"]


def test_a_late_event_appears_behind_events_already_served(sandbox):
    # given
    seed(sandbox, [event(1, 100), event(3, 300)])
    seed(sandbox, [event(2, 200)])

    # when
    with client_for(sandbox) as client:
        page = modelled.audit_logs_page(client, limit=100)

    # then
    assert [e["effective_at"] for e in page["data"]] == [300, 200, 100]


def test_generated_streams_include_other_workspaces_gpts(sandbox):
    # when
    events = generate_events(count=400, tenant="dainese", seed=3)

    # then
    names = {e[e["type"]]["gpt_name"] for e in events}
    assert any(n.startswith("claresia-dainese-") for n in names)
    assert any(n.startswith("claresia-othercorp-") for n in names)
    assert any(not n.startswith("claresia-") for n in names)
    assert {e["type"] for e in events} == {"gpt.invoked", "gpt.failed"}


@pytest.mark.parametrize(
    ("key", "org", "expected"),
    [
        ("sk-admin-regular", ORG, MissingScopeError),
        ("sk-compliance-revoked", ORG, AuthenticationError),
        ("not-a-key", ORG, AuthenticationError),
        (KEY, "org-acme-team", ComplianceAPIDisabledError),
        (KEY, "org-acme-plus", ComplianceAPIDisabledError),
        (KEY, "acme", AuthenticationError),
    ],
)
def test_credentials_choose_the_error(sandbox, key, org, expected):
    # when / then
    with client_for(sandbox, key=key, org=org) as client, pytest.raises(expected):
        modelled.audit_logs_page(client, limit=1)


def test_a_bad_limit_is_a_400_naming_the_param(sandbox):
    # when
    with client_for(sandbox) as client, pytest.raises(BadRequestError) as raised:
        modelled.audit_logs_page(client, limit=101)

    # then
    assert raised.value.param == "limit"


def test_injected_429_with_retry_after_is_served_then_cleared(sandbox):
    # given
    httpx.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"path": "/v1/organization/audit_logs", "status": 429, "retry_after": "1", "times": 1},
    )
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Organization": ORG}
    url = f"{sandbox.api_base}/organization/audit_logs"

    # when
    first, second = httpx.get(url, headers=headers), httpx.get(url, headers=headers)

    # then
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert second.status_code == 200


def test_injected_raw_body_is_served_as_is(sandbox):
    # given
    httpx.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"path": "/v1/", "status": 200, "body": '{"object": "list", "da'},
    )
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Organization": ORG}

    # when
    response = httpx.get(f"{sandbox.api_base}/organization/audit_logs", headers=headers)

    # then
    assert response.text == '{"object": "list", "da'


def gpt_config(name="claresia-dainese-prd-review", **extra):
    return {
        "name": name,
        "description": "d",
        "instructions": "i",
        "tools": [],
        "actions": [],
        "file_ids": [],
        "metadata": {},
        **extra,
    }


def test_gpts_are_created_found_updated_shared_and_deleted(sandbox):
    with client_for(sandbox) as client:
        # given
        file = modelled.file_upload(
            client, filename="a.md", content=b"# A", media_type="text/markdown"
        )
        created = modelled.gpt_create(client, gpt_config(file_ids=[file["id"]]))

        # when
        found = modelled.gpt_find_by_name(client, "claresia-dainese-prd-review")
        updated = modelled.gpt_update(client, created["id"], gpt_config(instructions="new"))
        shared = modelled.gpt_share(client, created["id"], ["grp_sre"])
        deleted = modelled.gpt_delete(client, created["id"])

        # then
        assert file["bytes"] == 3
        assert created["object"] == "gpt" and created["id"].startswith("g-")
        assert found["id"] == created["id"]
        assert updated["instructions"] == "new"
        assert shared == {"gpt_id": created["id"], "visibility": "groups", "group_ids": ["grp_sre"]}
        assert deleted["deleted"] is True
        with pytest.raises(NotFoundError):
            modelled.gpt_get(client, created["id"])


def test_a_taken_name_is_a_409(sandbox):
    with client_for(sandbox) as client:
        # given
        modelled.gpt_create(client, gpt_config())

        # when / then
        with pytest.raises(ConflictError) as raised:
            modelled.gpt_create(client, gpt_config())
        assert raised.value.code == "gpt_name_taken"


def test_platform_limits_are_enforced_naming_the_param(sandbox):
    with client_for(sandbox) as client, pytest.raises(BadRequestError) as raised:
        modelled.gpt_create(client, gpt_config(instructions="x" * 8001))
    assert raised.value.param == "instructions"


def test_an_unknown_workspace_group_is_a_404_naming_it(sandbox):
    # given
    httpx.post(f"{sandbox.url}/_sandbox/orgs/{ORG}", json={"group_ids": ["grp_sre"]})
    with client_for(sandbox) as client:
        gpt = modelled.gpt_create(client, gpt_config())

        # when
        with pytest.raises(NotFoundError) as raised:
            modelled.gpt_share(client, gpt["id"], ["grp_sre", "grp_ghost"])

    # then
    assert raised.value.code == "group_not_found"
    assert "grp_ghost" in raised.value.message


def test_publish_disabled_orgs_get_403_on_gpt_calls_but_can_read_audit_logs(sandbox):
    with client_for(sandbox, org="org-acme-nopublish") as client:
        modelled.audit_logs_page(client, limit=1)
        with pytest.raises(PublishDisabledError):
            modelled.gpt_create(client, gpt_config())
