"""How Claresia shows a few values the same way on every page (admin, Command Center, record)."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.html import format_html


def latency_text(latency_ms: int | None) -> str:
    """Latency in seconds with one decimal and a space, e.g. 2300 → "2.3 s" ("—" when unknown)."""
    if latency_ms is None:
        return "—"
    seconds = (Decimal(latency_ms) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{seconds} s"


def cost_text(cost_usd: Decimal | float | None) -> str:
    """A cost the same way on every page: US dollars with four decimals, e.g. "$0.0225" (the
    footer's two decimals would show most runs as "$0.00"); "—" when unknown."""
    if cost_usd is None:
        return "—"
    amount = Decimal(str(cost_usd)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return f"${amount}"


def when_text(value: datetime | None) -> str:
    """A moment the same way on every Command Center page: "2026-12-03 08:21 UTC" (the zone
    always said); "—" when there is none."""
    if value is None:
        return "—"
    if not isinstance(value, datetime):
        return str(value)
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M} {timezone.get_current_timezone_name()}"


def truncated(text: str, length: int = 60, title: str | None = None) -> str:
    """`text` cut to `length` characters in a table cell, the whole of it on hover (`title`;
    a `title` given is shown on hover instead, cut or not)."""
    text = text or ""
    if len(text) <= length:
        return format_html('<span title="{}">{}</span>', title, text) if title else text
    short = text[: length - 1].rstrip()
    return format_html('<span title="{}">{}…</span>', title or text, short)


def short_datetime(value: datetime | None) -> str:
    """A date and time in a narrow table cell, e.g. "2026-11-29 23:53" (the current time zone),
    the seconds and the zone on hover; "—" when there is none."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html(
        '<span title="{}">{}</span>', local.isoformat(timespec="seconds"), f"{local:%Y-%m-%d %H:%M}"
    )


def name_cell(obj, length: int = 20) -> str:
    """A tenant's or skill's name in a narrow table cell ("—" for none), the whole on hover."""
    return "—" if obj is None else truncated(getattr(obj, "name", "") or str(obj), length)
