"""The footer's View record link opens the record for the end user, who has no Claresia login:
signed, per record, expiring, read only, and the tenant can turn it off."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from telemetry.hub import links
from telemetry.hub.models import HubRecord

pytestmark = pytest.mark.django_db


def emit(hub, skill, **extra) -> dict:
    body = {
        "skill_id": skill.skill_id,
        "inputs": {"incident_id": "INC-4121"},
        "output": "## Summary\n**Failover** worked.",
        "latency_ms": 2300,
        **extra,
    }
    response = hub.post(
        "/hub/v1/records",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_OPENAI_EPHEMERAL_USER_ID="user-eph-7",
        HTTP_OPENAI_CONVERSATION_ID="conv-links-1",
    )
    assert response.status_code == 201, response.content
    return response.json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_the_footers_link_opens_the_record_read_only_without_a_login(client, hub, skill):
    # given
    answer = emit(hub, skill)

    # when: an end user who never logged in follows the footer's link
    response = client.get(path_of(answer["url"]))

    # then
    assert answer["footer"].endswith(f"[View record]({answer['url']})")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>Failover</strong>" in page and "INC-4121" in page
    assert "read only, until" in page
    assert "user-eph-7" not in page and "conv-links-1" not in page
    assert "Telemetry events" not in page and "/command-center/" not in page


def test_a_link_signed_for_another_record_opens_nothing(client, hub, skill):
    # given
    first = emit(hub, skill)
    second = emit(hub, skill, output="another answer")
    link = urlsplit(first["url"]).query

    # when
    response = client.get(f"/hub/records/{second['id']}?{link}")

    # then
    assert response.status_code == 404


def test_a_link_with_a_forged_signature_opens_nothing(client, hub, skill):
    answer = emit(hub, skill)
    expires = urlsplit(answer["url"]).query.split("=", 1)[1].split(".")[0]
    response = client.get(f"/hub/records/{answer['id']}?link={expires}.{'0' * 64}")
    assert response.status_code == 404


def test_an_expired_link_says_so_and_who_can_still_open_the_record(client, hub, skill):
    # given
    answer = emit(hub, skill)

    # when
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = client.get(path_of(answer["url"]))

    # then
    assert response.status_code == 403
    page = response.content.decode()
    assert "it has expired" in page and "Failover" not in page
    assert "administrators can still open the record after logging in" in page


def test_a_tenant_that_turns_links_off_closes_them_and_footers_carry_none(
    client, hub, skill, tenant
):
    # given
    answer = emit(hub, skill)

    # when
    tenant.record_links = False
    tenant.save()
    response = client.get(path_of(answer["url"]))
    later = hub.get(f"/hub/v1/records/{answer['id']}").json()

    # then
    assert response.status_code == 403
    assert "turned off record links" in response.content.decode()
    assert "?link=" not in later["url"]
    assert HubRecord.objects.filter(pk=answer["id"]).exists()


def test_the_same_call_repeated_answers_the_same_link(hub, skill):
    first = emit(hub, skill, record_key="same-key")
    again = hub.post(
        "/hub/v1/records",
        data=json.dumps(
            {
                "skill_id": skill.skill_id,
                "inputs": {"incident_id": "INC-4121"},
                "output": "## Summary\n**Failover** worked.",
                "latency_ms": 2300,
                "record_key": "same-key",
            }
        ),
        content_type="application/json",
    ).json()
    assert again["url"] == first["url"]


@pytest.mark.parametrize(
    ("record_id", "expires"),
    [
        ("rec_01JD0000000000000000000000", 1_790_000_000),
        ("rec_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", 0),
        ("", 1),
        ("é·✓", 2**40),
    ],
)
def test_a_signature_is_django_s_salted_hmac(record_id, expires):
    expected = salted_hmac(links.SALT, f"{record_id}:{expires}", algorithm="sha256").hexdigest()

    assert links._signature(record_id, expires) == expected
    assert links._signature(record_id, expires) == expected  # the kept key gives the same


def test_a_new_secret_key_signs_anew():
    # given
    before = links._signature("rec_01JD0000000000000000000000", 1_790_000_000)

    # when
    with override_settings(SECRET_KEY="another secret key, long enough for the checks" * 2):
        after = links._signature("rec_01JD0000000000000000000000", 1_790_000_000)
        expected = salted_hmac(
            links.SALT, "rec_01JD0000000000000000000000:1790000000", algorithm="sha256"
        ).hexdigest()

    # then
    assert after == expected != before
    assert links._signature("rec_01JD0000000000000000000000", 1_790_000_000) == before
