"""The "View record" page that every footer links to (hub-records-api.md)."""

import json

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from telemetry.hub.footer import cost_display, seconds_display
from telemetry.hub.links import LinkVerdict, record_link_check
from telemetry.hub.markdown import render_markdown
from telemetry.hub.selectors import (
    hub_record_by_id,
    hub_record_for_user,
    telemetry_events_for_record,
)

# A conversation holds a handful of runs; the cap only bounds a pathological one.
TELEMETRY_EVENTS_SHOWN = 50


@require_GET
def record_page(request, record_id: str):
    link = request.GET.get("link", "")
    if link:
        return _record_by_link(request, record_id, link)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # Another tenant's record is a 404, like a missing one: its existence is not disclosed.
    record = hub_record_for_user(user=request.user, record_id=record_id)
    if record is None:
        raise Http404("No such record.")
    return render(
        request,
        "hub/record.html",
        {
            **_record_context(record),
            "staff_view": True,
            "inputs_json": json.dumps(record.inputs, indent=2, ensure_ascii=False),
            "governance_events": record.governance_events.order_by("occurred_at"),
            "telemetry_events": telemetry_events_for_record(record=record)[:TELEMETRY_EVENTS_SHOWN],
        },
    )


def _record_context(record) -> dict:
    return {
        "record": record,
        "output_html": mark_safe(render_markdown(record.output, heading_offset=1)),  # noqa: S308 - sanitized
        "cost": cost_display(record.cost_usd),
        "seconds": seconds_display(record.latency_ms),
    }


def _record_by_link(request, record_id: str, link: str):
    """The end user's view through the footer's signed link: the record read only, without who
    ran it or Claresia's internal events; a wrong link is a 404, like a missing record."""
    record = hub_record_by_id(record_id=record_id)
    if record is None:
        raise Http404("No such record.")
    verdict, expires = record_link_check(
        token=link, record_id=record.id, links_on=record.tenant.record_links, now=timezone.now()
    )
    if verdict == LinkVerdict.WRONG:
        raise Http404("No such record.")
    if verdict != LinkVerdict.VALID:
        return render(
            request,
            "hub/record_link_closed.html",
            {"tenant": record.tenant, "verdict": verdict, "expires": expires},
            status=403,
        )
    return render(
        request,
        "hub/record.html",
        {
            **_record_context(record),
            "staff_view": False,
            "inputs_json": json.dumps(record.inputs, indent=2, ensure_ascii=False),
            "expires": expires,
        },
    )
