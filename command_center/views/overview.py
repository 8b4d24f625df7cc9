"""Command Center → Overview: the connector with *Test connection*, skills per target, poll
health and the open governance events (with *Mark reviewed*)."""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from command_center.pages import can_edit, command_center_page, editable_page_tenant, page_tenant
from connectors.services import connector_of, connector_test_connection
from skills.models import Publication
from skills.selectors import publish_runs_recent, skill_rows
from telemetry.hub.services import governance_events_review
from telemetry.selectors import (
    governance_event_of,
    governance_summary,
    logs_poll_health,
    poll_health,
)


@command_center_page
@require_GET
def overview(request):
    tenant, tenants = page_tenant(request)
    rows = skill_rows(tenant=tenant)
    counts = {status: 0 for status in (*Publication.Status.values, "never")}
    for row in rows:
        counts[row["publication"].status if row["publication"] else "never"] += 1
    return render(
        request,
        "command_center/overview.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "overview",
            "rows": rows,
            "skill_count": len(rows),
            "counts": counts,
            "connector": connector_of(tenant=tenant),
            "can_edit": can_edit(request.user, tenant),
            "poll": poll_health(tenant=tenant, now=timezone.now()),
            "logs_polls": logs_poll_health(tenant=tenant),
            "governance": governance_summary(tenant=tenant),
            "runs": publish_runs_recent(tenant=tenant, limit=5),
        },
    )


@command_center_page
@require_POST
def connector_test(request):
    """The overview's *Test connection* button: the same service as the admin's."""
    tenant = editable_page_tenant(request)
    connector = connector_of(tenant=tenant)
    if connector is None:
        raise Http404("This tenant has no connector yet.")
    connector_test_connection(connector=connector)
    return HttpResponseRedirect(f"{reverse('command_center:overview')}?tenant={tenant.slug}")


@command_center_page
@require_POST
def governance_review(request, event_id: int):
    """The overview's *Mark reviewed* button on a governance event."""
    tenant = editable_page_tenant(request)
    events = governance_event_of(tenant=tenant, event_id=event_id)
    if not events.exists():
        raise Http404("No such governance event for this tenant.")
    governance_events_review(events=events, user=request.user)
    return HttpResponseRedirect(
        f"{reverse('command_center:overview')}?tenant={tenant.slug}#governance"
    )
