"""The footer every GPT reply ends with, byte for byte as hub-records-api.md gives it."""

from decimal import ROUND_HALF_UP, Decimal


def cost_display(cost_usd: Decimal) -> str:
    """Cost with 2 decimals, e.g. Decimal('0.0351') → '0.04'."""
    return str(Decimal(cost_usd).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def seconds_display(latency_ms: int) -> str:
    """Latency in seconds with 1 decimal, e.g. 2300 → '2.3'."""
    seconds = Decimal(latency_ms) / 1000
    return str(seconds.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def footer_text(*, skill_name: str, cost_usd: Decimal, latency_ms: int, url: str) -> str:
    return (
        f"Claresia · {skill_name} · ${cost_display(cost_usd)} · "
        f"{seconds_display(latency_ms)}s · [View record]({url})"
    )
