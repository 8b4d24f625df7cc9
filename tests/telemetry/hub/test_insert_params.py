"""The hub's INSERT sends exactly what `HubRecord.save(force_insert=True)` would send, although
it prepares only the values that are not already their column's plain Python type."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.signals import post_init

from telemetry.hub.models import HubRecord
from telemetry.hub.services import _insert_params, _insert_sql, _new_record, hub_token_issue

pytestmark = pytest.mark.django_db

VALUES = {
    "status": HubRecord.Status.COMPLETED,
    "error_code": "",
    "record_key": "conv-1:turn-3",
    "content_hash": "0" * 64,
    "inputs": {"incident": "INC-1", "nested": [1, 2.5, None, True, "é"]},
    "output": "## Summary",
    "model": "gpt-4o",
    "input_tokens": 1840,
    "output_tokens": 612,
    "cost_usd": Decimal("0.010720"),
    "latency_ms": 2300,
    "cost_estimated": False,
    "latency_estimated": True,
    "openai_conversation_id": "conv-abc",
    "openai_ephemeral_user_id": "",
    "openai_gpt_id": "g-123",
}


def _as_save_prepares(record: HubRecord) -> list:
    _, fields = _insert_sql()
    return [field.get_db_prep_save(field.pre_save(record, True), connection) for field in fields]


def _comparable(values: list) -> list:
    # A JSON value is wrapped in a fresh adapter object each time: compare what it wraps and
    # the function that will write it.
    return [
        (type(value).__name__, getattr(value, "obj", value), getattr(value, "dumps", None))
        for value in values
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": HubRecord.Status.REFUSED, "inputs": {}, "output": ""},
        {"status": HubRecord.Status.FAILED, "error_code": "timeout"},
        {"cost_usd": Decimal("0"), "latency_ms": 0, "cost_estimated": True},
        {"input_tokens": True, "cost_usd": 1, "model": 5},  # not the plain types: prepared
        {"inputs": [1, "é"], "cost_usd": 0.5, "latency_ms": 2.0},  # nor the direct ones
        {"cost_usd": Decimal("1E+2"), "inputs": {}, "output_tokens": 2**31 - 1},
        {"corrected_at": datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "user_email": "a@b.example"},
        {"cost_usd": None, "latency_ms": None, "inputs": None},  # NULL (the row would refuse)
    ],
    ids=[
        "completed",
        "refused",
        "failed",
        "zero",
        "other types",
        "not direct",
        "edge",
        "set",
        "none",
    ],
)
@pytest.mark.parametrize("with_token", [True, False], ids=["hub token", "mcp"])
def test_the_insert_sends_what_save_would_send(tenant, skill, changes, with_token):
    # given
    token = hub_token_issue(tenant=tenant).token if with_token else None
    with time_machine.travel("2026-12-03 09:00:00Z", tick=False):
        record = _new_record(tenant=tenant, skill=skill, token=token, **{**VALUES, **changes})
        twin = _new_record(tenant=tenant, skill=skill, token=token, **{**VALUES, **changes})
        twin.id = record.id

        # when
        sent = _insert_params(record, connection)

        # then
        assert _comparable(sent) == _comparable(_as_save_prepares(twin))
    assert record.created_at == twin.created_at


def test_a_new_record_is_the_record_the_keyword_constructor_makes(tenant, skill):
    # given
    token = hub_token_issue(tenant=tenant).token

    # when
    record = _new_record(tenant=tenant, skill=skill, token=token, **VALUES)

    # then
    expected = HubRecord(id=record.id, tenant=tenant, skill=skill, token=token, **VALUES)
    fields = HubRecord._meta.concrete_fields
    assert [getattr(record, f.attname) for f in fields] == [
        getattr(expected, f.attname) for f in fields
    ]
    assert (record.tenant, record.skill, record.token) == (tenant, skill, token)
    assert record._state.adding


def test_a_decimal_that_is_not_a_number_is_refused_as_save_refuses_it(tenant, skill):
    record = _new_record(tenant=tenant, skill=skill, token=None, **VALUES)
    record.cost_usd = Decimal("NaN")

    with pytest.raises(ValidationError):
        _insert_params(record, connection)


def test_a_new_record_is_the_constructor_s_also_when_init_signals_are_listened_to(tenant, skill):
    # given
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=HubRecord)
    try:
        # when
        record = _new_record(tenant=tenant, skill=skill, token=None, **VALUES)
    finally:
        post_init.disconnect(receiver, sender=HubRecord)

    # then
    assert seen == [record]
    expected = HubRecord(id=record.id, tenant=tenant, skill=skill, token=None, **VALUES)
    fields = HubRecord._meta.concrete_fields
    assert [getattr(record, f.attname) for f in fields] == [
        getattr(expected, f.attname) for f in fields
    ]
    assert (record.tenant, record.skill, record.token) == (tenant, skill, None)
