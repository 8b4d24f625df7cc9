"""Command Center → Overview: the connector with *Test connection*, skills per target, poll
health per telemetry source (the one in use first) and the open governance events (with *Mark
reviewed*)."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from command_center.pages import can_edit, command_center_page, editable_page_tenant, page_tenant
from connectors.connection_checks import BannerLevel
from connectors.selectors import (
    ConnectorStatus,
    connector_banner,
    connector_of,
    connector_test_message,
)
from connectors.services import connector_test_connection
from skills.selectors import publication_counts, publish_runs_recent, skill_rows
from telemetry.hub.services import governance_events_reopen, governance_events_review
from telemetry.selectors import (
    governance_event_of,
    governance_summary,
    logs_conversations_unread,
    logs_poll_health,
    telemetry_sources_health,
)


@command_center_page
@require_GET
def overview(request):
    tenant, tenants = page_tenant(request)
    rows = skill_rows(tenant=tenant)
    # Just marked reviewed (the redirect says which): offer to undo it.
    reviewed = request.GET.get("reviewed", "")
    undo = (
        governance_event_of(tenant=tenant, event_id=int(reviewed))
        .filter(reviewed_at__isnull=False)
        .first()
        if reviewed.isdigit()
        else None
    )
    connector = connector_of(tenant=tenant)
    sources = telemetry_sources_health(tenant=tenant, now=timezone.now())
    # No source answered the last Test connection: zeros below would mean "not read", not "fine".
    telemetry_read = connector is not None and connector.status == ConnectorStatus.CONNECTED
    counts = publication_counts(rows)
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
            "connector": connector,
            "banner": connector_banner(connector) if connector else None,
            "test_message": connector_test_message(connector),
            "telemetry_read": telemetry_read,
            "can_edit": can_edit(request.user, tenant),
            "poll": sources[0].health,
            "poll_source": sources[0].name,
            "sources": sources,
            "logs_polls": logs_poll_health(tenant=tenant),
            "logs_conversations_unread": logs_conversations_unread(tenant=tenant),
            "governance": governance_summary(tenant=tenant),
            "runs": publish_runs_recent(tenant=tenant, limit=5),
            "undo": undo,
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
    tested = connector_of(tenant=tenant)
    said = connector_banner(tested)
    if said.level == BannerLevel.CONNECTED:
        messages.success(request, f"{tenant.name}: {said.text}. Every check answered.")
    elif said.level == BannerLevel.PARTLY:
        messages.warning(request, f"{tenant.name}: {said.text}.")
    else:
        # The reasons are on the page, once: in the checklist, or in the connector's message.
        messages.error(request, f"{tenant.name}: {said.text}; the reasons are below.")
    return HttpResponseRedirect(f"{reverse('command_center:overview')}?tenant={tenant.slug}")


@command_center_page
@require_GET
def governance_event_page(request, event_id: int):
    """One governance event in words, with *Mark reviewed* or *Reopen* for tenant admins."""
    tenant, tenants = page_tenant(request)
    event = (
        governance_event_of(tenant=tenant, event_id=event_id)
        .select_related("skill", "hub_record", "reviewed_by")
        .first()
    )
    if event is None:
        raise Http404("No such governance event for this tenant.")
    return render(
        request,
        "command_center/governance_event.html",
        {
            "tenant": tenant,
            "tenants": tenants,
            "section": "overview",
            "event": event,
            "can_edit": can_edit(request.user, tenant),
        },
    )


def _governance_url(tenant, **query) -> str:
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return f"{reverse('command_center:overview')}?tenant={tenant.slug}{extra}#governance"


@command_center_page
@require_POST
def governance_review(request, event_id: int):
    """The overview's *Mark reviewed* button on a governance event."""
    tenant = editable_page_tenant(request)
    events = governance_event_of(tenant=tenant, event_id=event_id)
    if not events.exists():
        raise Http404("No such governance event for this tenant.")
    event = events.select_related("skill").get()
    governance_events_review(events=events, user=request.user)
    what = event.get_kind_display() + (f" · {event.skill.name}" if event.skill else "")
    messages.success(request, f"Marked reviewed: {what}. It no longer counts as open.")
    return HttpResponseRedirect(_governance_url(tenant, reviewed=event.pk))


@command_center_page
@require_POST
def governance_reopen(request, event_id: int):
    """Undo *Mark reviewed*: the event is open again."""
    tenant = editable_page_tenant(request)
    events = governance_event_of(tenant=tenant, event_id=event_id)
    if not events.exists():
        raise Http404("No such governance event for this tenant.")
    event = events.select_related("skill").get()
    governance_events_reopen(events=events)
    what = event.get_kind_display() + (f" · {event.skill.name}" if event.skill else "")
    messages.success(request, f"Reopened: {what}. It counts as open again.")
    return HttpResponseRedirect(_governance_url(tenant))
