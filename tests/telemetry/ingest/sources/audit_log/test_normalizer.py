"""The pure normalizer: audit event → telemetry row (no database, no HTTP, no clock)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from telemetry.ingest.rows import TelemetryRow
from telemetry.ingest.sources.audit_log.normalizer import (
    MalformedEvent,
    Skipped,
    normalize_audit_event,
)

SKILLS = {"incident-postmortem": 7}
PRICES = {"gpt-4o": (Decimal("2.50"), Decimal("10.00"))}


def contract_event(**changes) -> dict:
    """The AuditLog of openai-enterprise-api.md → Audit logs."""
    event = {
        "id": "audit_log-6f1c2a0b9d",
        "type": "gpt.invoked",
        "effective_at": 1764068400,
        "project": {"id": "proj_abc", "name": "Default project"},
        "actor": {
            "type": "session",
            "session": {
                "user": {"id": "user-7Qp", "email": "ana@dainese.example"},
                "ip_address": "203.0.113.9",
            },
        },
        "gpt.invoked": {
            "gpt_id": "g-4Ew2",
            "gpt_name": "claresia-dainese-incident-postmortem",
            "conversation_id": "conv-91ab",
            "model": "gpt-4o",
            "usage": {"input_tokens": 1840, "output_tokens": 612},
            "latency_ms": 2300,
        },
    }
    event.update(changes)
    return event


def normalize(event, **options):
    return normalize_audit_event(
        event, tenant_slug="dainese", skills=SKILLS, prices=PRICES, **options
    )


def test_an_invoked_event_becomes_a_row_with_every_field():
    # given
    event = contract_event()

    # when
    row = normalize(event)

    # then
    assert isinstance(row, TelemetryRow)
    assert row._replace(raw="") == TelemetryRow(
        skill_id=7,
        skill_ref="incident-postmortem",
        skill_unknown=False,
        source="compliance_api",
        source_event_id="audit_log-6f1c2a0b9d",
        event_type="invoked",
        occurred_at=datetime(2025, 11, 25, 11, 0, tzinfo=UTC),
        actor_user_id="user-7Qp",
        actor_email="ana@dainese.example",
        gpt_id="g-4Ew2",
        gpt_name="claresia-dainese-incident-postmortem",
        conversation_id="conv-91ab",
        model="gpt-4o",
        input_tokens=1840,
        output_tokens=612,
        cost_usd=Decimal("0.010720"),
        latency_ms=2300,
        error_code="",
        error_message="",
        raw="",
        dropped_fields="",
    )
    assert json.loads(row.raw) == event


def test_a_failed_event_carries_its_error():
    # given
    event = contract_event(type="gpt.failed")
    event["gpt.failed"] = {
        **event.pop("gpt.invoked"),
        "error": {"code": "tool_error", "message": "The action timed out."},
    }

    # when
    row = normalize(event)

    # then
    assert (row.event_type, row.error_code, row.error_message) == (
        "failed",
        "tool_error",
        "The action timed out.",
    )


def test_an_unknown_skill_id_is_kept_with_the_skill_empty_and_flagged():
    # given
    event = contract_event()
    event["gpt.invoked"]["gpt_name"] = "claresia-dainese-retired-skill"

    # when
    row = normalize(event)

    # then
    assert (row.skill_id, row.skill_ref, row.skill_unknown) == (None, "retired-skill", True)


def test_a_gpt_that_is_not_claresia_is_skipped():
    # given
    event = contract_event()
    event["gpt.invoked"]["gpt_name"] = "Travel Helper"

    # when / then
    assert normalize(event) is Skipped.NOT_CLARESIA


def test_another_tenants_claresia_gpt_is_skipped():
    # given
    event = contract_event()
    event["gpt.invoked"]["gpt_name"] = "claresia-othercorp-incident-postmortem"

    # when / then
    assert normalize(event) is Skipped.OTHER_TENANT


def test_an_event_type_other_than_gpt_invoked_or_failed_is_skipped():
    # given
    event = {"id": "audit_log-1", "type": "login.succeeded", "effective_at": 1}

    # when / then
    assert normalize(event) is Skipped.OTHER_EVENT_TYPE


def test_missing_optional_keys_are_normal():
    # given: no actor, no project, null usage and latency, no model
    event = contract_event(actor=None)
    del event["project"]
    event["gpt.invoked"] = {"gpt_name": "claresia-dainese-incident-postmortem", "usage": None}

    # when
    row = normalize(event)

    # then
    assert isinstance(row, TelemetryRow)
    assert (row.actor_email, row.model, row.input_tokens, row.cost_usd, row.latency_ms) == (
        "",
        "",
        None,
        None,
        None,
    )


def test_a_model_missing_from_the_price_table_has_no_cost():
    # given
    event = contract_event()
    event["gpt.invoked"]["model"] = "gpt-9-preview"

    # when / then
    assert normalize(event).cost_usd is None


def test_cost_comes_from_the_price_table_handed_in():
    # given: a tenant paying half price
    prices = {"gpt-4o": (Decimal("1.25"), Decimal("5.00"))}

    # when
    row = normalize_audit_event(
        contract_event(), tenant_slug="dainese", skills=SKILLS, prices=prices
    )

    # then
    assert row.cost_usd == Decimal("0.005360")


def test_the_source_is_recorded_as_handed_in():
    # when
    row = normalize(contract_event(), source="audit_export")

    # then
    assert row.source == "audit_export"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": None}, "no id"),
        ({"effective_at": "yesterday"}, "no effective_at"),
    ],
)
def test_an_event_without_id_or_time_is_malformed(changes, reason):
    # given
    event = contract_event(**changes)

    # when / then
    with pytest.raises(MalformedEvent, match=reason):
        normalize(event)


def test_a_value_that_is_not_an_object_is_malformed():
    with pytest.raises(MalformedEvent, match="not a JSON object"):
        normalize(["audit_log-1"])


def test_the_normalizer_writes_the_telemetry_models_own_values():
    # given: the normalizer spells the values itself, being a core that imports no Django
    from telemetry.ingest.sources.audit_log.normalizer import (
        EVENT_TYPES,
        SOURCE_AUDIT_EXPORT,
        SOURCE_COMPLIANCE_API,
    )
    from telemetry.models import TelemetryEvent

    # then: each is one of the model's choices
    assert set(EVENT_TYPES.values()) <= set(TelemetryEvent.EventType.values)
    assert {SOURCE_COMPLIANCE_API, SOURCE_AUDIT_EXPORT} <= set(TelemetryEvent.Source.values)
