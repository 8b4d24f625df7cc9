"""The "View record" page that every footer links to (hub-records-api.md)."""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from telemetry.hub.footer import cost_display, seconds_display
from telemetry.hub.markdown import render_markdown
from telemetry.hub.selectors import hub_record_for_user, telemetry_events_for_record

# A conversation holds a handful of runs; the cap only bounds a pathological one.
TELEMETRY_EVENTS_SHOWN = 50


@require_GET
@login_required
def record_page(request, record_id: str):
    # Another tenant's record is a 404, like a missing one: its existence is not disclosed.
    record = hub_record_for_user(user=request.user, record_id=record_id)
    if record is None:
        raise Http404("No such record.")
    return render(
        request,
        "hub/record.html",
        {
            "record": record,
            "output_html": mark_safe(render_markdown(record.output, heading_offset=2)),  # noqa: S308 - sanitized
            "inputs_json": json.dumps(record.inputs, indent=2, ensure_ascii=False),
            "cost": cost_display(record.cost_usd),
            "seconds": seconds_display(record.latency_ms),
            "governance_events": record.governance_events.order_by("occurred_at"),
            "telemetry_events": telemetry_events_for_record(record=record)[:TELEMETRY_EVENTS_SHOWN],
        },
    )
