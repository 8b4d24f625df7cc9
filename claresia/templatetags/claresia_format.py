from django import template

from claresia.formatting import latency_text

register = template.Library()


@register.filter
def latency(latency_ms):
    """{{ record.latency_ms|latency }} → "2.3 s"."""
    return latency_text(latency_ms)
