"""Concurrent repeats against real PostgreSQL: each thread its own connection and transaction."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from telemetry.hub.models import HubRecord

CALLERS = 50


def _post_together(plaintext: str, body: dict, headers: dict) -> list[tuple[int, str]]:
    barrier = threading.Barrier(CALLERS)

    def call(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                "/hub/v1/records", data=json.dumps(body), content_type="application/json", **headers
            )
            return response.status_code, response.json()["id"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(call, range(CALLERS)))


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_posts_with_one_record_key_make_one_record(issued, skill):
    # given
    body = {"skill_id": skill.skill_id, "record_key": "turn-1", "output": "## Done"}

    # when
    results = _post_together(issued.plaintext, body, {})

    # then
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (CALLERS - 1) + [201]
    assert len({record_id for _, record_id in results}) == 1
    assert HubRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_keyless_posts_of_one_output_make_one_record(issued, skill):
    # given
    body = {"skill_id": skill.skill_id, "output": "## Done"}
    headers = {"HTTP_OPENAI_CONVERSATION_ID": "conv-race"}

    # when
    results = _post_together(issued.plaintext, body, headers)

    # then
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (CALLERS - 1) + [201]
    assert len({record_id for _, record_id in results}) == 1
    assert HubRecord.objects.count() == 1
