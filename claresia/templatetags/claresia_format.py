from django import template

from claresia.formatting import cost_text, latency_text, when_text

register = template.Library()


@register.filter
def latency(latency_ms):
    """{{ record.latency_ms|latency }} → "2.3 s"."""
    return latency_text(latency_ms)


@register.filter
def cost(cost_usd):
    """{{ record.cost_usd|cost }} → "$0.0225"."""
    return cost_text(cost_usd)


@register.filter
def when(value):
    """{{ run.created_at|when }} → "2026-12-03 08:21 UTC"."""
    return when_text(value)
