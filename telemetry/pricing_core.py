"""List prices and the one cost formula, shared by the hub's pricing (`telemetry.hub.pricing`)
and the telemetry normalizer (`ingest.sources.audit_log.normalizer`), so that a hub record and a
telemetry row of the same call cost the same.

Django-free on purpose: the normalizer is a pure core (ARCHITECTURE.md, Pure core, thin edges)
and imports this without settings or a database; a tenant's own prices are read by the hub's
pricing and handed in."""

from decimal import Decimal

# USD per million tokens (input, output): OpenAI list prices; a tenant's ModelPrice rows override.
DEFAULT_PRICES: dict[str, tuple[Decimal, Decimal]] = {
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1-nano": (Decimal("0.10"), Decimal("0.40")),
    "gpt-5": (Decimal("1.25"), Decimal("10.00")),
    "gpt-5-mini": (Decimal("0.25"), Decimal("2.00")),
    "o3": (Decimal("2.00"), Decimal("8.00")),
    "o4-mini": (Decimal("1.10"), Decimal("4.40")),
}
# Custom GPTs run on this model unless the GPT says otherwise.
DEFAULT_MODEL = "gpt-4o"
MILLION = Decimal(1_000_000)
MICRODOLLAR = Decimal("0.000001")  # every stored cost has 6 decimal places


def token_cost(
    input_tokens: int,
    output_tokens: int,
    input_per_million: Decimal,
    output_per_million: Decimal,
) -> Decimal:
    """Dollars for a call's tokens at per-million prices, to the microdollar."""
    total = input_tokens * input_per_million + output_tokens * output_per_million
    return (total / MILLION).quantize(MICRODOLLAR)
