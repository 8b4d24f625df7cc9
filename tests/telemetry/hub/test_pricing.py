from decimal import Decimal

import pytest

from telemetry.hub import pricing
from telemetry.hub.footer import footer_text
from telemetry.hub.models import HubRecord, ModelPrice
from telemetry.hub.services import hub_record_correct_from_telemetry, hub_record_footer
from tests.telemetry.helpers import post_record as post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("cost", "latency_ms", "shown"),
    [
        (Decimal("0.035"), 2300, "$0.04 · 2.3s"),
        (Decimal("0.034999"), 2349, "$0.03 · 2.3s"),
        (Decimal("0"), 0, "$0.00 · 0.0s"),
        (Decimal("12.5"), 61_250, "$12.50 · 61.3s"),
    ],
)
def test_the_footer_is_byte_for_byte_the_contract_line(cost, latency_ms, shown):
    # when
    footer = footer_text(
        skill_name="Incident Postmortem", cost_usd=cost, latency_ms=latency_ms, url="https://h/r/1"
    )

    # then
    assert footer == f"Claresia · Incident Postmortem · {shown} · [View record](https://h/r/1)"


def test_a_tenant_price_overrides_the_default(hub, skill, tenant):
    # given
    ModelPrice.objects.create(
        tenant=tenant, model="gpt-4o", input_usd_per_million=10, output_usd_per_million=40
    )
    body = {
        "skill_id": skill.skill_id,
        "output": "done",
        "model": "gpt-4o",
        "usage": {"input_tokens": 1000, "output_tokens": 1000},
        "latency_ms": 1000,
    }

    # when
    answer = post(hub, body).json()

    # then: 1000 × $10/M + 1000 × $40/M
    assert answer["cost_usd"] == "0.05"
    assert HubRecord.objects.get().cost_usd == Decimal("0.05")


def test_a_price_edited_after_a_call_applies_to_the_next_call(hub, skill, tenant):
    # given: a call priced at the default, which this process now remembers
    body = {
        "skill_id": skill.skill_id,
        "output": "done",
        "model": "gpt-4o",
        "usage": {"input_tokens": 1000, "output_tokens": 1000},
        "latency_ms": 1000,
    }
    post(hub, {**body, "record_key": "first"})

    # when
    ModelPrice.objects.create(
        tenant=tenant, model="gpt-4o", input_usd_per_million=10, output_usd_per_million=40
    )
    answer = post(hub, {**body, "record_key": "second"}).json()

    # then: 1000 × $10/M + 1000 × $40/M
    assert answer["cost_usd"] == "0.05"


def test_another_tenants_prices_do_not_apply(hub, skill, other_tenant):
    # given
    ModelPrice.objects.create(
        tenant=other_tenant, model="gpt-4o", input_usd_per_million=1000, output_usd_per_million=1000
    )
    body = {
        "skill_id": skill.skill_id,
        "output": "done",
        "model": "gpt-4o",
        "usage": {"input_tokens": 1000, "output_tokens": 1000},
    }

    # when
    post(hub, body)

    # then: the default gpt-4o price
    assert HubRecord.objects.get().cost_usd == Decimal("0.0125")


def test_without_usage_or_latency_the_hub_estimates_and_marks_the_record(hub, skill):
    # given
    output = "x" * 4000

    # when
    answer = post(hub, {"skill_id": skill.skill_id, "output": output, "model": "gpt-4o"}).json()

    # then
    record = HubRecord.objects.get()
    assert record.cost_estimated and record.latency_estimated
    assert record.output_tokens == 1000
    assert record.input_tokens == pricing.estimate_tokens(skill.ir["instructions"])
    assert record.latency_ms == pricing.FIRST_TOKEN_MS + 20_000
    assert answer["latency_ms"] == record.latency_ms
    assert record.cost_usd > 0


def test_an_unknown_model_is_priced_as_the_default_and_marked_estimated(hub, skill):
    # when
    post(
        hub,
        {
            "skill_id": skill.skill_id,
            "output": "done",
            "model": "future-model",
            "usage": {"input_tokens": 1_000_000, "output_tokens": 0},
            "latency_ms": 10,
        },
    )

    # then
    record = HubRecord.objects.get()
    assert record.cost_usd == Decimal("2.5")
    assert record.cost_estimated and not record.latency_estimated


def test_telemetry_corrects_an_estimated_record(hub, skill):
    # given
    post(hub, {"skill_id": skill.skill_id, "output": "x" * 400})
    record = HubRecord.objects.select_related("tenant", "skill").get()

    # when
    hub_record_correct_from_telemetry(
        record=record,
        input_tokens=2000,
        output_tokens=100,
        model="gpt-4o-mini",
        latency_ms=1500,
        user_email="ana@dainese.example",
    )

    # then
    record.refresh_from_db()
    assert not record.cost_estimated and not record.latency_estimated
    assert (record.input_tokens, record.output_tokens, record.latency_ms) == (2000, 100, 1500)
    assert record.cost_usd == Decimal("0.00036")  # 2000 × 0.15/M + 100 × 0.60/M
    assert record.model == "gpt-4o-mini"
    assert record.user_email == "ana@dainese.example"
    assert record.corrected_at is not None
    assert "· $0.00 · 1.5s ·" in hub_record_footer(record)


def test_a_latency_only_correction_keeps_the_cost_estimate(hub, skill):
    # given
    post(hub, {"skill_id": skill.skill_id, "output": "x" * 400})
    record = HubRecord.objects.select_related("tenant", "skill").get()
    cost_before = record.cost_usd

    # when
    hub_record_correct_from_telemetry(record=record, latency_ms=900)

    # then
    record.refresh_from_db()
    assert record.latency_ms == 900 and not record.latency_estimated
    assert record.cost_estimated and record.cost_usd == cost_before
