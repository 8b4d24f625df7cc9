"""How Claresia shows a few values the same way on every page (admin, Command Center, record)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import format_html


def latency_text(latency_ms: int | None) -> str:
    """Latency in seconds with one decimal and a space, e.g. 2300 → "2.3 s" ("—" when unknown)."""
    if latency_ms is None:
        return "—"
    seconds = (Decimal(latency_ms) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{seconds} s"


def truncated(text: str, length: int = 60) -> str:
    """`text` cut to `length` characters in a table cell, the whole of it on hover (`title`)."""
    text = text or ""
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1].rstrip())
