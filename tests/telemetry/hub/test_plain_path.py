"""`POST /hub/v1/records` answers a plainly valid call without DRF's machinery (api._plain_emit)
and everything else through the DRF view: both answers must be the same, byte for byte.

Each case is sent twice on one frozen clock with one record id, each time inside a savepoint
that is rolled back: once as served, once with the plain path switched off (the DRF view
alone). Status, every header, the body and the rows written must match."""

import json
import types

import pytest
import time_machine
from django.db import transaction
from rest_framework.test import APIClient

from telemetry.hub import api
from telemetry.hub import models as hub_models
from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.hub.services import hub_token_issue, hub_tokens_revoke
from tests.telemetry.helpers import HUB_RECORDS_URL

pytestmark = pytest.mark.django_db

BODY = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "inputs": {"incident_id": "INC-4121", "nested": {"list": [1, 2.5, None, True, "é"]}},
    "output": "## Summary\nThe database failed over. \u2028 ✓",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}
MINIMAL = {"skill_id": "incident-postmortem", "output": "Done."}
JSON = "application/json"

# (name, raw body, content type, whether the plain path answers it)
CASES = [
    ("full body", json.dumps(BODY), JSON, True),
    ("minimal body", json.dumps(MINIMAL), JSON, True),
    ("charset utf-8", json.dumps(MINIMAL), "application/json; charset=utf-8", True),
    ("refused", json.dumps({**MINIMAL, "status": "refused"}), JSON, True),
    (
        "failed with a code",
        json.dumps({**MINIMAL, "status": "failed", "error_code": "e.1"}),
        JSON,
        True,
    ),
    ("an unknown model", json.dumps({**MINIMAL, "model": "gpt-9"}), JSON, True),
    ("no such skill", json.dumps({**MINIMAL, "skill_id": "no-such-skill"}), JSON, True),
    ("no output", json.dumps({"skill_id": "incident-postmortem"}), JSON, False),
    ("blank output", json.dumps({**MINIMAL, "output": "  "}), JSON, False),
    ("a bad skill id", json.dumps({**MINIMAL, "skill_id": "Bad_Id"}), JSON, False),
    ("a padded model", json.dumps({**MINIMAL, "model": " gpt-4o"}), JSON, False),
    (
        "negative usage",
        json.dumps({**MINIMAL, "usage": {"input_tokens": -1, "output_tokens": 1}}),
        JSON,
        False,
    ),
    ("a boolean latency", json.dumps({**MINIMAL, "latency_ms": True}), JSON, False),
    ("a NUL in the output", json.dumps({**MINIMAL, "output": "a\x00b"}), JSON, False),
    ("a lone surrogate", '{"skill_id": "incident-postmortem", "output": "\\ud800"}', JSON, False),
    ("an array", json.dumps([MINIMAL]), JSON, False),
    ("not JSON", "{not json", JSON, False),
    ("NaN", '{"skill_id": "incident-postmortem", "output": "x", "latency_ms": NaN}', JSON, False),
    ("a 19-digit number", json.dumps({**MINIMAL, "latency_ms": 10**19}), JSON, False),
    ("an empty body", "", JSON, False),
    ("over the bound", json.dumps({**MINIMAL, "output": "x" * 100_001}), JSON, False),
    ("text/plain", json.dumps(MINIMAL), "text/plain", False),
    ("latin-1", json.dumps(MINIMAL), "application/json; charset=latin-1", False),
]


@pytest.fixture
def plain_answers(monkeypatch):
    """What the plain path returned on each call (None: it left the call to DRF)."""
    seen = []
    original = api._plain_emit

    def spy(request):
        answer = original(request)
        seen.append(answer)
        return answer

    monkeypatch.setattr(api, "_plain_emit", spy)
    return seen


@pytest.fixture
def one_record_id(monkeypatch):
    # new_record_id's randomness, fixed: both paths then give the record the same id.
    monkeypatch.setattr(hub_models, "secrets", types.SimpleNamespace(randbits=lambda bits: 42))


def answer(client, monkeypatch, *, plain: bool, method="post", body="", content_type=JSON, **extra):
    """One call's status, headers, body and rows, with everything it wrote rolled back."""
    with monkeypatch.context() as patch:
        if not plain:
            patch.setattr(api, "_plain_emit", lambda request: None)
        with transaction.atomic():
            response = getattr(client, method)(
                HUB_RECORDS_URL, data=body, content_type=content_type, **extra
            )
            rows = (
                list(HubRecord.objects.order_by("id").values()),
                list(GovernanceEvent.objects.values("kind", "dedupe_key", "message")),
            )
            transaction.set_rollback(True)
    return response.status_code, sorted(response.items()), response.content, rows


def both(client, monkeypatch, **call):
    with time_machine.travel("2026-12-03 09:00:00Z", tick=False):
        served = answer(client, monkeypatch, plain=True, **call)
        drf = answer(client, monkeypatch, plain=False, **call)
    return served, drf


@pytest.mark.parametrize(
    ("body", "content_type", "plain"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_call_is_answered_as_the_drf_view_answers_it(
    hub, skill, one_record_id, plain_answers, monkeypatch, body, content_type, plain
):
    # when
    served, drf = both(
        hub, monkeypatch, body=body, content_type=content_type, HTTP_OPENAI_CONVERSATION_ID="c-1"
    )

    # then
    assert served == drf
    assert (plain_answers[0] is not None) is plain


def test_a_repeat_is_answered_as_the_drf_view_answers_it(
    hub, skill, one_record_id, plain_answers, monkeypatch
):
    # given the record is stored
    with time_machine.travel("2026-12-03 08:59:00Z", tick=False):
        assert hub.post(HUB_RECORDS_URL, data=BODY, format="json").status_code == 201

    # when
    served, drf = both(hub, monkeypatch, body=json.dumps(BODY))

    # then
    assert served == drf
    assert served[0] == 200
    assert plain_answers[-2] is not None


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic abc", "Bearer ", "Bearer hub_nope_nope", "Bearer not-a-token"],
    ids=["none", "another scheme", "empty", "unknown token", "malformed token"],
)
def test_an_unauthenticated_call_is_answered_as_the_drf_view_answers_it(
    skill, plain_answers, monkeypatch, authorization
):
    # given
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    # when
    served, drf = both(client, monkeypatch, body=json.dumps(MINIMAL))

    # then
    assert served == drf
    assert served[0] == 401
    assert plain_answers[0] is None


def test_a_revoked_token_is_answered_as_the_drf_view_answers_it(
    tenant, skill, plain_answers, monkeypatch
):
    # given a token that worked once, then was revoked
    issued = hub_token_issue(tenant=tenant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert client.post(HUB_RECORDS_URL, data=MINIMAL, format="json").status_code == 201
    hub_tokens_revoke(tokens=type(issued.token).objects.filter(pk=issued.token.pk))

    # when
    served, drf = both(client, monkeypatch, body=json.dumps({**MINIMAL, "output": "Again."}))

    # then
    assert served == drf
    assert served[0] == 401


@pytest.mark.parametrize(
    "body", [json.dumps(MINIMAL), json.dumps({"skill_id": "x"})], ids=["valid", "invalid"]
)
def test_a_throttled_call_is_answered_as_the_drf_view_answers_it(
    hub, skill, settings, plain_answers, monkeypatch, body
):
    # given the token's one call a minute is spent
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"hub_token": "1/min"},
    }
    with time_machine.travel("2026-12-03 09:00:00Z", tick=False):
        hub.post(HUB_RECORDS_URL, data={**MINIMAL, "output": "First."}, format="json")

    # when
    served, drf = both(hub, monkeypatch, body=body)

    # then
    assert served == drf
    assert served[0] == 429
    assert dict(served[1])["Retry-After"] == "61"


@pytest.mark.parametrize("method", ["get", "put", "delete", "options"])
def test_another_method_is_answered_as_the_drf_view_answers_it(
    hub, skill, plain_answers, monkeypatch, method
):
    # when
    body = {} if method == "get" else json.dumps(MINIMAL)  # a GET's data is its query
    served, drf = both(hub, monkeypatch, method=method, body=body)

    # then
    assert served == drf
    assert plain_answers[0] is None


def test_an_html_accept_header_still_gets_the_same_json(hub, skill, one_record_id, monkeypatch):
    # when
    served, drf = both(hub, monkeypatch, body=json.dumps(MINIMAL), HTTP_ACCEPT="text/html")

    # then
    assert served == drf
    assert dict(served[1])["Content-Type"] == "application/json"
