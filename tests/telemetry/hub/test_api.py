import json
from decimal import Decimal

import pytest
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache

from telemetry.hub.links import record_link_token
from telemetry.hub.models import GovernanceEvent, HubRecord, is_record_id
from telemetry.hub.services import hub_tokens_revoke
from tests.telemetry.helpers import HUB_RECORDS_URL
from tests.telemetry.helpers import post_record as post


def record_link(record: HubRecord) -> str:
    return record_link_token(record_id=record.id, created_at=record.created_at)


pytestmark = pytest.mark.django_db

URL = HUB_RECORDS_URL
BODY = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "inputs": {"incident_id": "INC-4121", "severity": "SEV2"},
    "output": "## Summary\nThe database failed over.",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}
OPENAI_HEADERS = {
    "HTTP_OPENAI_CONVERSATION_ID": "conv-abc",
    "HTTP_OPENAI_EPHEMERAL_USER_ID": "user-eph-1",
    "HTTP_OPENAI_GPT_ID": "g-123",
}


def test_emit_answers_201_with_the_contract_footer(hub, skill):
    # when
    response = post(hub, BODY)

    # then
    assert response.status_code == 201
    answer = response.json()
    record = HubRecord.objects.get()
    url = f"https://api.claresia.com/hub/records/{record.id}?link={record_link(record)}"
    # 1840 × $2.50/M + 612 × $10/M = $0.01072 → "0.01"
    assert answer == {
        "id": record.id,
        "url": url,
        "footer": f"Claresia · Incident Postmortem · $0.01 · 2.3s · [View record]({url})",
        "cost_usd": "0.01",
        "latency_ms": 2300,
    }
    assert is_record_id(record.id)


def test_emit_keeps_the_record_and_the_openai_headers(hub, skill):
    # when
    post(hub, BODY, **OPENAI_HEADERS)

    # then
    record = HubRecord.objects.get()
    assert record.skill == skill
    assert record.inputs == BODY["inputs"]
    assert record.output == BODY["output"]
    assert (record.input_tokens, record.output_tokens) == (1840, 612)
    assert record.cost_usd == Decimal("0.010720")
    assert not record.cost_estimated and not record.latency_estimated
    assert record.openai_conversation_id == "conv-abc"
    assert record.openai_ephemeral_user_id == "user-eph-1"
    assert record.openai_gpt_id == "g-123"


def test_a_mode_c_tenant_gets_urls_on_its_own_hub(hub, skill, tenant):
    # given
    tenant.deployment_mode = "C"
    tenant.hub_base_url = "https://hub.dainese.example/"
    tenant.save()

    # when
    answer = post(hub, BODY).json()

    # then
    record = HubRecord.objects.get(pk=answer["id"])
    assert answer["url"] == (
        f"https://hub.dainese.example/hub/records/{record.id}?link={record_link(record)}"
    )
    assert answer["footer"].endswith(f"[View record]({answer['url']})")


def test_the_same_record_key_returns_the_same_record_with_200(hub, skill):
    # given
    first = post(hub, BODY).json()

    # when
    repeat = post(hub, {**BODY, "output": "something else"})

    # then
    assert repeat.status_code == 200
    assert repeat.json() == first
    assert HubRecord.objects.count() == 1


def test_without_a_key_the_same_conversation_skill_and_output_is_one_record(hub, skill):
    # given
    body = {k: v for k, v in BODY.items() if k != "record_key"}
    first = post(hub, body, **OPENAI_HEADERS).json()

    # when
    repeat = post(hub, body, **OPENAI_HEADERS)

    # then
    assert repeat.status_code == 200
    assert repeat.json()["id"] == first["id"]
    assert HubRecord.objects.count() == 1


def test_without_a_key_another_conversation_is_another_record(hub, skill):
    # given
    body = {k: v for k, v in BODY.items() if k != "record_key"}
    post(hub, body, HTTP_OPENAI_CONVERSATION_ID="conv-1")

    # when
    response = post(hub, body, HTTP_OPENAI_CONVERSATION_ID="conv-2")

    # then
    assert response.status_code == 201
    assert HubRecord.objects.count() == 2


def test_a_refused_output_keeps_no_body_and_writes_a_governance_event(hub, skill):
    # when
    response = post(hub, {**BODY, "status": "refused"}, **OPENAI_HEADERS)

    # then
    assert response.status_code == 201
    record = HubRecord.objects.get()
    assert record.status == "refused"
    assert record.output == "" and record.inputs == {}
    event = GovernanceEvent.objects.get()
    assert event.kind == "output_refused"
    assert event.hub_record == record and event.skill == skill
    assert event.openai_conversation_id == "conv-abc"


def test_a_refused_repeat_writes_no_second_governance_event(hub, skill):
    # given
    post(hub, {**BODY, "status": "refused"})

    # when
    post(hub, {**BODY, "status": "refused"})

    # then
    assert GovernanceEvent.objects.count() == 1


def test_an_unknown_skill_is_a_404(hub, skill):
    # when
    response = post(hub, {**BODY, "skill_id": "no-such-skill"})

    # then
    assert response.status_code == 404
    assert HubRecord.objects.count() == 0


def test_another_tenants_skill_looks_exactly_like_a_missing_one(hub, skill, other_skill):
    # when
    theirs = post(hub, {**BODY, "skill_id": other_skill.skill_id})
    missing = post(hub, {**BODY, "skill_id": "never-existed"})

    # then
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert HubRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"output": "x"}, "skill_id"),
        ({"skill_id": "incident-postmortem"}, "output"),
        ({"skill_id": "incident-postmortem", "output": "   "}, "output"),
        ({"skill_id": "Not A Slug", "output": "x"}, "skill_id"),
        ({"skill_id": 12, "output": "x"}, "skill_id"),
        ({"skill_id": "incident-postmortem", "output": "x", "status": "maybe"}, "status"),
        ({"skill_id": "incident-postmortem", "output": "x", "inputs": [1]}, "inputs"),
        ({"skill_id": "incident-postmortem", "output": "x", "latency_ms": "12"}, "latency_ms"),
        ({"skill_id": "incident-postmortem", "output": "x", "latency_ms": -1}, "latency_ms"),
        (
            {"skill_id": "incident-postmortem", "output": "x", "usage": {"input_tokens": 1}},
            "usage.output_tokens",
        ),
        ({"skill_id": "incident-postmortem", "output": "a\x00b"}, "output"),
        ({"skill_id": "incident-postmortem", "output": "x", "inputs": {"k": "\ud800"}}, "inputs"),
    ],
)
def test_bad_fields_get_field_level_400s_and_change_nothing(hub, skill, body, field):
    # when
    response = post(hub, body)

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert HubRecord.objects.count() == 0


def test_a_body_that_is_not_an_object_is_a_400(hub, skill):
    # when
    response = post(hub, ["skill_id", "output"])

    # then
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]


def test_malformed_json_is_a_400(hub, skill):
    # when
    response = hub.post(URL, data="{not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["errors"]["body"][0]


@pytest.mark.parametrize("number", ["1e400", "-1e999", "NaN", "Infinity"])
def test_numbers_no_json_column_can_store_are_a_400_not_a_crash(hub, skill, number):
    # given: inputs with a number that reads as infinity, or is not JSON at all
    raw = json.dumps({**BODY, "inputs": {"x": 0}}).replace('{"x": 0}', f'{{"x": {number}}}')

    # when
    response = hub.post(URL, data=raw, content_type="application/json")

    # then
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["errors"]["body"][0]
    assert HubRecord.objects.count() == 0


def test_json_nested_too_deeply_is_a_400_not_a_crash(hub, skill):
    # when
    response = hub.post(URL, data="[" * 50_000 + "]" * 50_000, content_type="application/json")

    # then
    assert response.status_code == 400


def test_integers_beyond_64_bits_keep_every_digit(hub, skill):
    # given
    big = 123456789012345678901234567890

    # when
    response = post(hub, {**BODY, "inputs": {"ticket": big, "small": 7}})

    # then
    assert response.status_code == 201
    assert HubRecord.objects.get().inputs == {"ticket": big, "small": 7}


def test_a_body_that_is_not_json_is_a_415(hub, skill):
    # when
    response = hub.post(URL, data="skill_id=x&output=y", content_type="text/plain")

    # then
    assert response.status_code == 415


def test_a_body_over_100000_characters_is_a_413(hub, skill):
    # when
    response = post(hub, {**BODY, "output": "é" * 100_000})

    # then
    assert response.status_code == 413
    assert HubRecord.objects.count() == 0


def test_a_body_of_exactly_100000_characters_is_accepted(hub, skill):
    # given: a body of 100,000 characters, most of them two-byte ones
    body = {**BODY, "output": ""}
    padding = 100_000 - len(json.dumps(body, ensure_ascii=False))
    body["output"] = "é" * padding
    raw = json.dumps(body, ensure_ascii=False)
    assert len(raw) == 100_000

    # when
    response = hub.post(URL, data=raw.encode(), content_type="application/json")

    # then
    assert response.status_code == 201


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer nope", "Basic dXNlcjpwdw==", "Bearer chub_x_y"]
)
def test_no_or_a_wrong_token_is_a_401_with_www_authenticate(client, skill, authorization):
    # given
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    # when
    response = client.post(URL, data=json.dumps(BODY), content_type="application/json", **headers)

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert HubRecord.objects.count() == 0


def test_a_revoked_token_is_a_401(hub, skill, issued):
    # given
    hub_tokens_revoke(tokens=type(issued.token).objects.filter(pk=issued.token.pk))

    # when
    response = post(hub, BODY)

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_token_revoked_after_use_is_a_401_at_once(hub, skill, issued):
    # given: the token worked, so this process remembers it (telemetry/hub/hotcache.py)
    assert post(hub, BODY).status_code == 201

    # when
    hub_tokens_revoke(tokens=type(issued.token).objects.filter(pk=issued.token.pk))
    response = post(hub, {**BODY, "record_key": "another"})

    # then
    assert response.status_code == 401
    assert HubRecord.objects.count() == 1


def test_the_throttle_counts_in_one_window_across_calls(hub, skill, settings):
    # given: three calls allowed a minute, two spent
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"hub_token": "3/min"},
    }
    post(hub, BODY)
    post(hub, {**BODY, "record_key": "second"})

    # when
    third = post(hub, {**BODY, "record_key": "third"})
    fourth = post(hub, {**BODY, "record_key": "fourth"})

    # then
    assert third.status_code == 201
    assert fourth.status_code == 429


def test_a_throttled_token_gets_429_with_retry_after(hub, skill, settings):
    # given
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"hub_token": "2/min"},
    }
    post(hub, BODY)
    post(hub, BODY)

    # when
    response = post(hub, BODY)

    # then
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61


def test_the_throttle_counts_each_token_apart(hub, other_hub, skill, other_skill, settings):
    # given
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"hub_token": "1/min"},
    }
    post(hub, BODY)

    # when
    response = post(other_hub, {**BODY, "skill_id": other_skill.skill_id})

    # then
    assert response.status_code == 201


def test_the_throttle_window_counts_in_redis_with_an_expiry(hub, skill, issued):
    # given
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        pytest.skip("the suite runs on Redis (make test); this run has another cache")
    redis = backend._cache.get_client(None)

    # when
    post(hub, BODY)
    post(hub, {**BODY, "record_key": "second"})

    # then: one counter for the token's window, at 2, expiring with the window
    keys = redis.keys(f"*throttle:hub_token:{issued.token.pk}:*")
    assert len(keys) == 1
    assert int(redis.get(keys[0])) == 2
    assert 0 < redis.ttl(keys[0]) <= 61


def test_get_returns_the_tenants_record(hub, skill):
    # given
    created = post(hub, BODY).json()

    # when
    response = hub.get(f"{URL}/{created['id']}")

    # then
    assert response.status_code == 200
    answer = response.json()
    assert {k: answer[k] for k in created} == created
    assert answer["skill_id"] == "incident-postmortem"
    assert answer["status"] == "completed"


def test_get_of_another_tenants_record_is_a_404_like_a_missing_one(hub, other_hub, skill):
    # given
    created = post(hub, BODY).json()

    # when
    theirs = other_hub.get(f"{URL}/{created['id']}")
    missing = other_hub.get(f"{URL}/rec_00000000000000000000000000")

    # then
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_get_without_a_token_is_a_401(client, hub, skill):
    # given
    created = post(hub, BODY).json()

    # when
    response = client.get(f"{URL}/{created['id']}")

    # then
    assert response.status_code == 401


def test_the_answer_is_json_whatever_the_client_accepts(hub, skill):
    # when
    response = post(hub, BODY, HTTP_ACCEPT="text/html")

    # then
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"


def test_a_known_key_id_with_a_wrong_secret_looks_like_an_unknown_token(client, issued, skill):
    # given
    prefix, key_id, secret = issued.plaintext.split("_", 2)
    wrong_secret = f"{prefix}_{key_id}_{'x' * len(secret)}"
    unknown_key = f"{prefix}_{'0' * len(key_id)}_{secret}"

    # when
    answers = [
        client.post(
            URL,
            data=json.dumps(BODY),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        for token in (wrong_secret, unknown_key)
    ]

    # then
    assert [answer.status_code for answer in answers] == [401, 401]
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize("record_id", ["rec_%00", "x" * 500, "rec_%F0%9F%92%A9"])
def test_get_of_a_malformed_id_is_a_404(hub, record_id):
    # when
    response = hub.get(f"{URL}/{record_id}")

    # then
    assert response.status_code == 404
