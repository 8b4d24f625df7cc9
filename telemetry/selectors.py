"""Reads of one tenant's telemetry for the Command Center: poll health, governance events, hub
records. Selectors only: the caller picked the tenant through claresia.scoping."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q, QuerySet

from claresia.models import Tenant
from telemetry.models import GovernanceEvent, HubRecord, LogsCursor, PollCursor, TelemetryEvent


@dataclass(frozen=True)
class PollHealth:
    cursor: PollCursor | None
    newest_event_at: datetime | None
    # now − the newest stored event time: how far behind OpenAI's audit log the dashboard is.
    lag: timedelta | None

    @property
    def failing(self) -> bool:
        cursor = self.cursor
        return bool(
            cursor
            and cursor.last_error
            and (cursor.last_success_at is None or cursor.last_error_at > cursor.last_success_at)
        )


def poll_health(*, tenant: Tenant, now: datetime) -> PollHealth:
    cursor = PollCursor.objects.filter(tenant=tenant).first()
    # Served by the (tenant, occurred_at) index: one index probe, not a scan.
    newest = TelemetryEvent.objects.filter(tenant=tenant).aggregate(newest=Max("occurred_at"))[
        "newest"
    ]
    return PollHealth(cursor=cursor, newest_event_at=newest, lag=(now - newest) if newest else None)


@dataclass(frozen=True)
class GovernanceSummary:
    count: int
    latest: list[GovernanceEvent]


def governance_summary(*, tenant: Tenant, latest: int = 5) -> GovernanceSummary:
    """The tenant's open governance events (not yet marked reviewed): how many, the newest."""
    events = GovernanceEvent.objects.filter(tenant=tenant, reviewed_at__isnull=True).select_related(
        "skill", "hub_record"
    )
    newest = list(events.order_by("-occurred_at")[:latest])
    return GovernanceSummary(count=events.count(), latest=newest)


def governance_event_of(*, tenant: Tenant, event_id: int) -> QuerySet[GovernanceEvent]:
    """The tenant's governance event `event_id` (empty when it is another tenant's or unknown)."""
    return GovernanceEvent.objects.filter(tenant=tenant, pk=event_id)


def hub_records_filtered(
    *, tenant: Tenant, skill_id: str = "", status: str = "", estimated: str = ""
) -> QuerySet[HubRecord]:
    """The tenant's hub records, newest first, narrowed by the Records page's filters.

    Filters only ever narrow the tenant's own records: another tenant's skill id matches none.
    """
    records = HubRecord.objects.filter(tenant=tenant).select_related("skill")
    if skill_id:
        records = records.filter(skill__skill_id=skill_id)
    if status in HubRecord.Status.values:
        records = records.filter(status=status)
    if estimated == "yes":
        records = records.filter(Q(cost_estimated=True) | Q(latency_estimated=True))
    elif estimated == "no":
        records = records.filter(cost_estimated=False, latency_estimated=False)
    return records.order_by("-created_at", "-id")


def logs_poll_health(*, tenant: Tenant) -> list[LogsCursor]:
    """The tenant's Compliance Logs Platform polls (one per event type read), with the
    platform's own `max_event_time` freshness beside the cursor."""
    return list(LogsCursor.objects.filter(tenant=tenant).order_by("event_type"))
