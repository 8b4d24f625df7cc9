"""Cost and latency of a hub record: from the call's usage and the tenant's price table, or an
offline estimate when the call gives none (hub-records-api.md: "its best estimate … without
network access"). Pure functions except those reading the price table; the list prices and the
cost formula are `telemetry.pricing_core`'s, which the telemetry normalizer shares."""

import json
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from claresia.models import Tenant
from telemetry.pricing_core import DEFAULT_MODEL, DEFAULT_PRICES, token_cost

# Offline estimates: ~4 characters per token for English text (OpenAI's rule of thumb); a fixed
# time to first token plus a steady generation rate for latency.
CHARS_PER_TOKEN = 4
FIRST_TOKEN_MS = 600
OUTPUT_TOKENS_PER_SECOND = 50


@dataclass(frozen=True)
class Price:
    input_per_million: Decimal
    output_per_million: Decimal
    known: bool  # False when the model is unknown and the default model's price stands in


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


def tenant_price_subqueries(*, model: str) -> dict[str, Subquery]:
    """Annotations that fetch a tenant's price row for `model` along with another query (the
    hub's hot path reads the skill and its price in one round trip)."""
    from telemetry.hub.models import ModelPrice

    rows = ModelPrice.objects.filter(
        tenant=OuterRef("tenant"), model=model or DEFAULT_MODEL
    ).order_by()
    return {
        "price_input": Subquery(rows.values("input_usd_per_million")[:1]),
        "price_output": Subquery(rows.values("output_usd_per_million")[:1]),
    }


def price_for(*, tenant: Tenant, model: str) -> Price:
    from telemetry.hub.models import ModelPrice

    row = (
        ModelPrice.objects.filter(tenant=tenant, model=model or DEFAULT_MODEL)
        .values_list("input_usd_per_million", "output_usd_per_million")
        .first()
    )
    return price_from(model=model, row=row)


def price_from(*, model: str, row: tuple[Decimal, Decimal] | None) -> Price:
    """The tenant's row when it has one, else the default for the model, else the default
    model's (marked unknown, so the cost is an estimate)."""
    name = model or DEFAULT_MODEL
    if row is not None and row[0] is not None and row[1] is not None:
        return Price(row[0], row[1], known=True)
    if name in DEFAULT_PRICES:
        return Price(*DEFAULT_PRICES[name], known=True)
    return Price(*DEFAULT_PRICES[DEFAULT_MODEL], known=False)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimate_usage(*, instructions: str, inputs: dict, output: str) -> Usage:
    """Tokens from the text the model read (the skill's instructions and inputs) and wrote."""
    inputs_text = json.dumps(inputs, ensure_ascii=False, sort_keys=True) if inputs else ""
    return Usage(
        input_tokens=estimate_tokens(instructions) + estimate_tokens(inputs_text),
        output_tokens=estimate_tokens(output),
    )


def estimate_latency_ms(*, output_tokens: int) -> int:
    return FIRST_TOKEN_MS + math.ceil(output_tokens * 1000 / OUTPUT_TOKENS_PER_SECOND)


def cost_usd(*, usage: Usage, price: Price) -> Decimal:
    return token_cost(
        usage.input_tokens,
        usage.output_tokens,
        price.input_per_million,
        price.output_per_million,
    )


def tenant_price_table(*, tenant: Tenant) -> dict[str, tuple[Decimal, Decimal]]:
    """Every model's (input, output) USD per million for `tenant`: defaults, then its overrides.

    Handed to the pure telemetry normalizer so telemetry and hub records price alike."""
    from telemetry.hub.models import ModelPrice

    table = dict(DEFAULT_PRICES)
    rows = ModelPrice.objects.filter(tenant=tenant).values_list(
        "model", "input_usd_per_million", "output_usd_per_million"
    )
    table.update((model, (input_price, output_price)) for model, input_price, output_price in rows)
    return table
