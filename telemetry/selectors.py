"""Reads of one tenant's telemetry for the Command Center: poll health, governance events, hub
records. Selectors only: the caller picked the tenant through claresia.scoping."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils.timesince import timesince

from claresia.models import Tenant
from connectors.connection_checks import CONVERSATIONS_NEED_WORKSPACE
from connectors.openai.chatgpt_admin import APP_LOG, CONVERSATION_MESSAGE
from connectors.selectors import connector_audit_log_refused, connector_logs_principal
from telemetry.models import (
    GovernanceEvent,
    HubRecord,
    HubToken,
    LogsCursor,
    PluginSkillMapping,
    PollCursor,
    TelemetryEvent,
)

# A poll is stale when this many intervals passed without a success: one missed poll is noise
# (a slow page, a restart), two mean the poller is not running.
STALE_AFTER_INTERVALS = 2


@dataclass(frozen=True)
class PollHealth:
    class State(StrEnum):
        NOT_POLLED = "not_polled"
        HEALTHY = "healthy"
        STALE = "stale"
        FAILING = "failing"
        # A source the poll does not read because its last Test connection check failed.
        SWITCHED_OFF = "off"
        # The per-user audit export: read when uploaded, never polled.
        IMPORTED = "imported"

    cursor: PollCursor | None
    newest_event_at: datetime | None
    # now − the newest stored event time: how far behind OpenAI's audit log the dashboard is.
    lag: timedelta | None
    state: State
    # What the state means and what to do about it, in the words of the tenant's staff.
    advice: str

    @property
    def failing(self) -> bool:
        return self.state == self.State.FAILING

    @property
    def label(self) -> str:
        return {
            self.State.NOT_POLLED: "Not polled yet",
            self.State.HEALTHY: "Healthy",
            self.State.STALE: "Stale",
            self.State.FAILING: "Failing",
            self.State.SWITCHED_OFF: "Not read",
            self.State.IMPORTED: "Imported",
        }[self.state]


def poll_health_of(
    *,
    cursor: PollCursor | None,
    newest_event_at: datetime | None,
    now: datetime,
    interval: int | None = None,
) -> PollHealth:
    """The one place that decides whether a tenant's telemetry poll is healthy (pure)."""
    interval = settings.TELEMETRY_POLL_INTERVAL if interval is None else interval
    every = f"polls run every {interval} s"
    lag = (now - newest_event_at) if newest_event_at else None
    state, advice = PollHealth.State.HEALTHY, ""
    success = cursor.last_success_at if cursor else None
    if (
        cursor
        and cursor.last_error
        and (success is None or (cursor.last_error_at and cursor.last_error_at > success))
    ):
        state = PollHealth.State.FAILING
        advice = (
            "The last poll failed, so telemetry is not being read. Fix what the error says "
            "(often the Compliance key or organization id in Connect LLM), then run "
            f"Poll now in the admin's Telemetry polls; {every} and retry on their own."
        )
    elif success is None:
        state = PollHealth.State.NOT_POLLED
        advice = (
            "No poll has succeeded yet. The first runs within a minute of connecting; if it "
            "does not, check that the poller (poll_telemetry, or the Celery worker and beat) runs."
        )
    elif now - success > timedelta(seconds=STALE_AFTER_INTERVALS * interval):
        state = PollHealth.State.STALE
        advice = (
            f"No poll has succeeded for {timesince(success, now)} ({every}): the poller is "
            "probably not running, so new events and costs are not read. Start it "
            "(poll_telemetry, or the Celery worker and beat), or run Poll now in the admin."
        )
    return PollHealth(
        cursor=cursor, newest_event_at=newest_event_at, lag=lag, state=state, advice=advice
    )


def poll_health(*, tenant: Tenant, now: datetime, interval: int | None = None) -> PollHealth:
    cursor = PollCursor.objects.filter(tenant=tenant).first()
    # Served by the (tenant, occurred_at) index: one index probe, not a scan.
    newest = TelemetryEvent.objects.filter(tenant=tenant).aggregate(newest=Max("occurred_at"))[
        "newest"
    ]
    return poll_health_of(cursor=cursor, newest_event_at=newest, now=now, interval=interval)


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


def hub_tokens_named(*, tenant: Tenant, name: str) -> QuerySet[HubToken]:
    return HubToken.objects.filter(tenant=tenant, name=name)


def hub_record_statuses() -> list[tuple[str, str]]:
    """(value, label) of every hub record status: the Records page's filter."""
    return HubRecord.Status.choices


def hub_records_filtered(
    *,
    tenant: Tenant,
    skill_id: str = "",
    status: str = "",
    estimated: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[HubRecord]:
    """The tenant's hub records, newest first, narrowed by the Records page's filters
    (`since` inclusive, `until` exclusive: the posting time, as the dashboard's periods).

    Filters only ever narrow the tenant's own records: another tenant's skill id matches none.
    """
    records = HubRecord.objects.filter(tenant=tenant).select_related("skill")
    if since is not None:
        records = records.filter(created_at__gte=since)
    if until is not None:
        records = records.filter(created_at__lt=until)
    if skill_id:
        records = records.filter(skill__skill_id=skill_id)
    if status in HubRecord.Status.values:
        records = records.filter(status=status)
    if estimated == "yes":
        records = records.filter(Q(cost_estimated=True) | Q(latency_estimated=True))
    elif estimated == "no":
        records = records.filter(cost_estimated=False, latency_estimated=False)
    return records.order_by("-created_at", "-id")


@dataclass(frozen=True)
class RecordsTotal:
    """What a set of hub records adds up to: how many, their cost, and how many of those
    costs are still estimates (no telemetry event matched yet)."""

    records: int = 0
    cost_usd: Decimal = Decimal(0)
    estimated: int = 0


def hub_records_total(records: QuerySet[HubRecord]) -> RecordsTotal:
    row = records.order_by().aggregate(
        records=Count("id"),
        cost_usd=Sum("cost_usd"),
        estimated=Count("id", filter=Q(cost_estimated=True)),
    )
    return RecordsTotal(
        records=row["records"], cost_usd=row["cost_usd"] or Decimal(0), estimated=row["estimated"]
    )


def logs_poll_health(*, tenant: Tenant) -> list[LogsCursor]:
    """The tenant's Compliance Logs Platform polls (one per event type read), with the
    platform's own `max_event_time` freshness beside the cursor."""
    return list(LogsCursor.objects.filter(tenant=tenant).order_by("event_type"))


def logs_conversations_unread(*, tenant: Tenant) -> str:
    """Why the Logs Platform reads no conversations for the tenant, or "": its connection reads
    the organization path only, which serves app calls (chatgpt-admin-api.md → Credentials and
    errors), so conversation telemetry waits for the workspace id."""
    principal = connector_logs_principal(tenant=tenant)
    if principal is None or principal.is_workspace:
        return ""
    return CONVERSATIONS_NEED_WORKSPACE


SWITCHED_OFF_ADVICE = "not read: the last connection check failed"
SEED_AUDIT_LOG = "Seed audit log"
AUDIT_EXPORT = "Audit export"


@dataclass(frozen=True)
class SourceHealth:
    """One telemetry source's poll health and lag, measured on that source's own events."""

    name: str
    health: PollHealth
    # The source the tenant's telemetry actually comes from (the overview leads with it).
    in_use: bool = False


def _newest(tenant: Tenant, source: str, **narrow) -> datetime | None:
    events = TelemetryEvent.objects.filter(tenant=tenant, source=source, **narrow)
    if "event_type" not in narrow:
        events = events.exclude(event_type=TelemetryEvent.EventType.APP_CALL)
    return events.aggregate(newest=Max("occurred_at"))["newest"]


def _switched_off(cursor, newest: datetime | None, now: datetime) -> PollHealth:
    return PollHealth(
        cursor=cursor,
        newest_event_at=newest,
        lag=(now - newest) if newest else None,
        state=PollHealth.State.SWITCHED_OFF,
        advice=SWITCHED_OFF_ADVICE,
    )


def telemetry_sources_health(
    *, tenant: Tenant, now: datetime, interval: int | None = None
) -> list[SourceHealth]:
    """Poll health and lag per source — the seed's audit log, the Logs Platform per event type,
    the audit export when one was imported — the one the tenant's telemetry comes from first.

    Which sources a poll reads follows `telemetry.ingest.services.telemetry_poll_tenant`: the
    Logs Platform as the principal whose last check passed, the seed's audit log unless its
    check failed while the Logs Platform's passed."""
    principal = connector_logs_principal(tenant=tenant)
    audit_off = principal is not None and connector_audit_log_refused(tenant=tenant)
    compliance_api = TelemetryEvent.Source.COMPLIANCE_API
    seed_cursor = PollCursor.objects.filter(tenant=tenant).first()
    seed_newest = _newest(tenant, compliance_api)
    seed = SourceHealth(
        SEED_AUDIT_LOG,
        _switched_off(seed_cursor, seed_newest, now)
        if audit_off
        else poll_health_of(
            cursor=seed_cursor, newest_event_at=seed_newest, now=now, interval=interval
        ),
        in_use=principal is None,
    )
    cursors = {c.event_type: c for c in LogsCursor.objects.filter(tenant=tenant)}
    lead_type = (
        CONVERSATION_MESSAGE
        if principal is not None and principal.kind == "workspaces"
        else APP_LOG
    )
    logs = []
    for event_type in (CONVERSATION_MESSAGE, APP_LOG):
        narrow = {"event_type": TelemetryEvent.EventType.APP_CALL} if event_type == APP_LOG else {}
        newest = _newest(tenant, TelemetryEvent.Source.COMPLIANCE_LOGS, **narrow)
        cursor = cursors.get(event_type)
        health = (
            _switched_off(cursor, newest, now)
            if principal is None
            else poll_health_of(cursor=cursor, newest_event_at=newest, now=now, interval=interval)
        )
        logs.append(
            SourceHealth(
                f"Logs Platform · {event_type}",
                health,
                in_use=principal is not None and event_type == lead_type,
            )
        )
    sources = [seed, *logs]
    export_newest = _newest(tenant, TelemetryEvent.Source.AUDIT_EXPORT)
    if export_newest is not None:
        sources.append(
            SourceHealth(
                AUDIT_EXPORT,
                PollHealth(
                    cursor=None,
                    newest_event_at=export_newest,
                    lag=now - export_newest,
                    state=PollHealth.State.IMPORTED,
                    advice="read when an export is uploaded in the admin, never polled",
                ),
            )
        )
    # The source in use first; the rest keep their order.
    return sorted(sources, key=lambda source: not source.in_use)


NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def plugin_skill_mappings(*, tenant: Tenant) -> list[dict]:
    """The tenant's ids, each with its mapping and its uses (count, first and last), mapped or
    not, newest use first."""
    uses = {
        row["plugin_skill_id"]: row
        for row in TelemetryEvent.objects.filter(tenant=tenant)
        .exclude(plugin_skill_id="")
        .order_by()
        .values("plugin_skill_id")
        .annotate(
            uses=Count("*"),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
            failures=Count("event_type", filter=Q(event_type=TelemetryEvent.EventType.FAILED)),
        )
    }
    out = []
    for mapping in PluginSkillMapping.objects.filter(tenant=tenant).select_related(
        "skill", "confirmed_by"
    ):
        counted = uses.get(mapping.skills_used_id, {})
        out.append(
            {
                "mapping": mapping,
                "uses": counted.get("uses", 0),
                "failures": counted.get("failures", 0),
                "first_use": counted.get("first"),
                "last_use": counted.get("last"),
            }
        )
    out.sort(key=lambda row: row["last_use"] or NEVER, reverse=True)
    return out
