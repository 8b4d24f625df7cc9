"""Telemetry ↔ hub reconciliation (seed Part 4 and its troubleshooting row "Hub records missing").

Two checks, both idempotent:
- An invocation (`gpt.invoked`) whose conversation has no hub record for that skill once the
  grace period (`TELEMETRY_RECONCILE_GRACE`, 15 min) has passed becomes one governance event
  "hub record missing" per skill and conversation (whatever source reported it, however often).
- A hub record whose cost or latency the hub estimated is corrected from its telemetry event.
- A Logs Platform invocation, which carries no usage or latency (chatgpt-admin-api.md → Compliance
  Logs Platform), takes its cost and latency from the hub record its GPT wrote for it: the first
  record of the same conversation and skill made at or after the message (a plugin skill's
  assistant message: SKILL_USE_SLACK earlier too); a record of status `failed` makes it a
  failure with the record's `error_code` as its reason.

Each poll checks the event-time range from the tenant's `reconciled_until` (less the poll
overlap, for late events) up to the older of `now − grace` and the poll cursor, so an
invocation is judged only once every event up to it has been read; the range then advances.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from claresia.models import Tenant
from connectors.openai.chatgpt_admin import CONVERSATION_MESSAGE
from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.hub.services import hub_record_correct_from_telemetry
from telemetry.models import LogsCursor, PollCursor, TelemetryEvent

# Why a use leaves no record is not in any log: the likely causes, none of them presumed.
MISSING_MESSAGE = (
    "Hub record missing: {skill} ran in ChatGPT and no record was written. Likely causes: the "
    "run failed or was stopped before emit_hub_record; the Claresia app (or the GPT's action) "
    "is not enabled for the user's role, or its connection needs approving again; the model "
    "skipped the call."
)
# An assistant message that used a plugin skill may be stamped before or after the record its
# run wrote (the contract gives no order): a record this much earlier still belongs to it.
SKILL_USE_SLACK = timedelta(minutes=5)
# A failed hub record that names no reason.
FAILED_WITHOUT_CODE = "failed"
# How far back a first reconciliation (or an audit-export import) looks.
HORIZON = timedelta(days=7)
CORRECTION_BATCH = 2000


@dataclass(frozen=True)
class ReconcileOutcome:
    missing_records: int
    corrected_records: int


def telemetry_reconcile(
    *, tenant: Tenant, now: datetime, since: datetime | None = None
) -> ReconcileOutcome:
    """Write "hub record missing" governance events and correct estimated hub records.

    Without `since`, the range follows the tenant's poll (module docstring) and advances it;
    with `since` (an audit-export import), that range is checked and nothing advances."""
    grace = timedelta(seconds=settings.TELEMETRY_RECONCILE_GRACE)
    overlap = timedelta(seconds=settings.TELEMETRY_OVERLAP)
    with transaction.atomic():
        cursor = PollCursor.objects.select_for_update().filter(tenant=tenant).first()
        until = now - grace
        if since is None and cursor is not None and cursor.cursor_at is not None:
            until = min(until, cursor.cursor_at)
        if since is None:
            # The Logs Platform's cursor too: its files arrive minutes after their events.
            # Invocations come from CONVERSATION_MESSAGE only: an idle APP_LOG cursor must not
            # hold the range back.
            logs_cursor = LogsCursor.objects.filter(
                tenant=tenant, event_type=CONVERSATION_MESSAGE, cursor_at__isnull=False
            )
            oldest = logs_cursor.order_by("cursor_at").values_list("cursor_at", flat=True).first()
            if oldest is not None:
                until = min(until, oldest)
        start = since
        if start is None:
            start = (
                (cursor.reconciled_until - overlap)
                if cursor and cursor.reconciled_until
                else (now - HORIZON)
            )
        missing = _flag_missing_records(tenant=tenant, start=start, until=until)
        if since is None and cursor is not None and until > (cursor.reconciled_until or start):
            cursor.reconciled_until = until
            cursor.save(update_fields=["reconciled_until"])
    corrected = _correct_estimates(tenant=tenant, now=now)
    _costs_from_hub_records(tenant=tenant, now=now)
    return ReconcileOutcome(missing_records=missing, corrected_records=corrected)


def _first_record(*, tenant: Tenant, slack: timedelta):
    """The first hub record of the event's conversation and skill made at or after the event
    (less `slack`)."""
    return HubRecord.objects.filter(
        tenant=tenant,
        openai_conversation_id=OuterRef("conversation_id"),
        skill_id=OuterRef("skill_id"),
        created_at__gte=OuterRef("occurred_at") - slack,
    ).order_by("created_at", "id")


def _costs_from_hub_records(*, tenant: Tenant, now: datetime) -> int:
    """Give Logs Platform invocations their hub record's cost and latency, and its failure
    (a record of status `failed` makes the use a failure, with the record's reason); the number
    of events filled. Idempotent: a filled event is not looked at again."""
    if connection.vendor == "postgresql":
        return _costs_from_hub_records_in_sql(tenant=tenant, now=now)
    return _costs_from_hub_records_orm(tenant=tenant, now=now)


# `_costs_from_hub_records_orm`'s four UPDATEs as one, run after every poll: each event's first
# record (same conversation and skill, made at or after the event, a plugin skill's use
# SKILL_USE_SLACK earlier too) gives its cost and latency, and makes an invocation a failure
# with the record's reason when that record failed. Building the four through the ORM cost a
# quiet poll a third of its CPU (README → Polling a fleet). Only our own table names are
# formatted in; every value is a parameter.
_COSTS_SQL = """
UPDATE {events} AS event
SET (event_type, error_code, cost_usd, latency_ms) = (
    SELECT
        CASE WHEN event.event_type = %(invoked)s AND record.status = %(record_failed)s
             THEN %(failed)s ELSE event.event_type END,
        CASE WHEN event.event_type = %(invoked)s AND record.status = %(record_failed)s
             THEN COALESCE(NULLIF(record.error_code, ''), %(without_code)s)
             ELSE event.error_code END,
        record.cost_usd,
        record.latency_ms
    FROM {records} AS record
    WHERE record.tenant_id = event.tenant_id
      AND record.openai_conversation_id = event.conversation_id
      AND record.skill_id = event.skill_id
      AND record.created_at >= event.occurred_at
          - CASE WHEN event.plugin_skill_id = '' THEN %(no_slack)s ELSE %(slack)s END
    ORDER BY record.created_at, record.id
    LIMIT 1
)
WHERE event.tenant_id = %(tenant)s
  AND event.source = %(source)s
  AND event.cost_usd IS NULL
  AND event.occurred_at >= %(since)s
  AND event.skill_id IS NOT NULL
  AND event.conversation_id <> ''
  AND event.event_type IN (%(invoked)s, %(failed)s)
  AND EXISTS (
      SELECT 1 FROM {records} AS record
      WHERE record.tenant_id = event.tenant_id
        AND record.openai_conversation_id = event.conversation_id
        AND record.skill_id = event.skill_id
        AND record.created_at >= event.occurred_at
            - CASE WHEN event.plugin_skill_id = '' THEN %(no_slack)s ELSE %(slack)s END
  )
"""


def _costs_from_hub_records_in_sql(*, tenant: Tenant, now: datetime) -> int:
    sql = _COSTS_SQL.format(events=TelemetryEvent._meta.db_table, records=HubRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "tenant": tenant.pk,
                "source": TelemetryEvent.Source.COMPLIANCE_LOGS.value,
                "since": now - HORIZON,
                "invoked": TelemetryEvent.EventType.INVOKED.value,
                "failed": TelemetryEvent.EventType.FAILED.value,
                "record_failed": HubRecord.Status.FAILED.value,
                "without_code": FAILED_WITHOUT_CODE,
                "no_slack": timedelta(0),
                "slack": SKILL_USE_SLACK,
            },
        )
        return max(cursor.rowcount, 0)


def _costs_from_hub_records_orm(*, tenant: Tenant, now: datetime) -> int:
    """The obviously correct twin of `_costs_from_hub_records_in_sql`, and SQLite's path."""
    filled = 0
    for plugin_uses, slack in ((False, timedelta(0)), (True, SKILL_USE_SLACK)):
        record = _first_record(tenant=tenant, slack=slack)
        events = TelemetryEvent.objects.filter(
            tenant=tenant,
            source=TelemetryEvent.Source.COMPLIANCE_LOGS,
            cost_usd__isnull=True,
            occurred_at__gte=now - HORIZON,
            skill__isnull=False,
        ).exclude(conversation_id="")
        if plugin_uses:
            events = events.exclude(plugin_skill_id="")
        else:
            events = events.filter(plugin_skill_id="")
        (
            events.filter(event_type=TelemetryEvent.EventType.INVOKED)
            .filter(Exists(record.filter(status=HubRecord.Status.FAILED)))
            .annotate(first_status=Subquery(record.values("status")[:1]))
            .filter(first_status=HubRecord.Status.FAILED)
            .update(
                event_type=TelemetryEvent.EventType.FAILED,
                error_code=Coalesce(
                    NullIf(Subquery(record.values("error_code")[:1]), Value("")),
                    Value(FAILED_WITHOUT_CODE),
                ),
            )
        )
        filled += (
            events.filter(
                event_type__in=[
                    TelemetryEvent.EventType.INVOKED,
                    TelemetryEvent.EventType.FAILED,
                ]
            )
            .filter(Exists(record))
            .update(
                cost_usd=Subquery(record.values("cost_usd")[:1]),
                latency_ms=Subquery(record.values("latency_ms")[:1]),
            )
        )
    return filled


def _flag_missing_records(*, tenant: Tenant, start: datetime, until: datetime) -> int:
    if start >= until:
        return 0
    if connection.vendor == "postgresql":
        return _flag_missing_records_in_sql(tenant=tenant, start=start, until=until)
    return _flag_missing_records_one_by_one(tenant=tenant, start=start, until=until)


# The same governance events as `_flag_missing_records_one_by_one`, in one statement: the first
# invocation (by time, then id) of each skill and conversation with no hub record, inserted
# unless already there (the unique tenant, kind and key). PostgreSQL does the anti-join, the
# pick and the insert without a row reaching Python (bench_telemetry: 50,000 invocations).
# Only our own table names are formatted in; every value is a parameter.
_FLAG_SQL = """
INSERT INTO {governance} (
    tenant_id, skill_id, hub_record_id, kind, message, openai_conversation_id, dedupe_key,
    details, occurred_at, created_at, reviewed_at, reviewed_by_id
)
SELECT
    first.tenant_id, first.skill_id, NULL, %(kind)s,
    %(message_head)s || skill.name || %(message_tail)s,
    first.conversation_id, skill.skill_id || ':' || first.conversation_id,
    jsonb_build_object(
        'actor_email', first.actor_email, 'gpt_id', first.gpt_id,
        'source', first.source, 'source_event_id', first.source_event_id
    ),
    first.occurred_at, %(now)s, NULL, NULL
FROM (
    SELECT DISTINCT ON (event.skill_id, event.conversation_id)
        event.tenant_id, event.skill_id, event.conversation_id, event.occurred_at,
        event.actor_email, event.gpt_id, event.source, event.source_event_id
    FROM {events} AS event
    WHERE event.tenant_id = %(tenant)s
      AND event.event_type = %(invoked)s
      AND event.skill_id IS NOT NULL
      AND event.occurred_at >= %(start)s AND event.occurred_at <= %(until)s
      AND event.conversation_id <> ''
      AND NOT EXISTS (
          SELECT 1 FROM {records} AS record
          WHERE record.tenant_id = event.tenant_id
            AND record.skill_id = event.skill_id
            AND record.openai_conversation_id = event.conversation_id
      )
    ORDER BY event.skill_id, event.conversation_id, event.occurred_at, event.id
) AS first
JOIN {skills} AS skill ON skill.id = first.skill_id
ON CONFLICT (tenant_id, kind, dedupe_key) DO NOTHING
"""


def _flag_missing_records_in_sql(*, tenant: Tenant, start: datetime, until: datetime) -> int:
    head, tail = MISSING_MESSAGE.split("{skill}")
    sql = _FLAG_SQL.format(
        governance=GovernanceEvent._meta.db_table,
        events=TelemetryEvent._meta.db_table,
        records=HubRecord._meta.db_table,
        skills=TelemetryEvent._meta.get_field("skill").related_model._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "kind": GovernanceEvent.Kind.HUB_RECORD_MISSING.value,
                "message_head": head,
                "message_tail": tail,
                "now": timezone.now(),
                "tenant": tenant.pk,
                "invoked": TelemetryEvent.EventType.INVOKED.value,
                "start": start,
                "until": until,
            },
        )
        return max(cursor.rowcount, 0)


def _flag_missing_records_one_by_one(*, tenant: Tenant, start: datetime, until: datetime) -> int:
    """The obviously correct twin of `_flag_missing_records_in_sql`, and SQLite's path (the
    zero-setup demo run): the rows through Python, first per skill and conversation kept."""
    has_record = HubRecord.objects.filter(
        tenant=tenant, skill=OuterRef("skill"), openai_conversation_id=OuterRef("conversation_id")
    )
    invocations = (
        TelemetryEvent.objects.filter(
            tenant=tenant,
            event_type=TelemetryEvent.EventType.INVOKED,
            skill__isnull=False,
            occurred_at__gte=start,
            occurred_at__lte=until,
        )
        .exclude(conversation_id="")
        .filter(~Exists(has_record))
        .order_by("occurred_at", "id")
        .values_list(
            "skill_id",
            "skill__skill_id",
            "skill__name",
            "conversation_id",
            "occurred_at",
            "actor_email",
            "gpt_id",
            "source",
            "source_event_id",
        )
    )
    events: dict[str, GovernanceEvent] = {}
    for (
        skill_pk,
        skill_id,
        skill_name,
        conversation,
        at,
        email,
        gpt_id,
        source,
        event_id,
    ) in invocations.iterator(chunk_size=2000):
        key = f"{skill_id}:{conversation}"
        if key in events:
            continue
        events[key] = GovernanceEvent(
            tenant=tenant,
            skill_id=skill_pk,
            kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
            dedupe_key=key,
            message=MISSING_MESSAGE.format(skill=skill_name),
            openai_conversation_id=conversation,
            occurred_at=at,
            details={
                "actor_email": email,
                "gpt_id": gpt_id,
                "source": source,
                "source_event_id": event_id,
            },
        )
    if not events:
        return 0
    known = set(
        GovernanceEvent.objects.filter(
            tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING, dedupe_key__in=events
        ).values_list("dedupe_key", flat=True)
    )
    new = [event for key, event in events.items() if key not in known]
    GovernanceEvent.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


def _correct_estimates(*, tenant: Tenant, now: datetime) -> int:
    records = list(
        HubRecord.objects.filter(
            tenant=tenant, corrected_at__isnull=True, created_at__gte=now - HORIZON
        )
        .filter(Q(cost_estimated=True) | Q(latency_estimated=True))
        .exclude(openai_conversation_id="")
        .select_related("tenant")[:CORRECTION_BATCH]
    )
    if not records:
        return 0
    matches: dict[tuple[int, str], dict] = {}
    for event in (
        TelemetryEvent.objects.filter(
            tenant=tenant,
            event_type=TelemetryEvent.EventType.INVOKED,
            occurred_at__gte=min(r.created_at for r in records) - HORIZON,
            conversation_id__in={r.openai_conversation_id for r in records},
        )
        .order_by("occurred_at")
        .values(
            "skill_id",
            "conversation_id",
            "input_tokens",
            "output_tokens",
            "model",
            "latency_ms",
            "actor_email",
        )
    ):
        matches.setdefault((event["skill_id"], event["conversation_id"]), event)
    corrected = 0
    for record in records:
        event = matches.get((record.skill_id, record.openai_conversation_id))
        if event is None:
            continue
        hub_record_correct_from_telemetry(
            record=record,
            input_tokens=event["input_tokens"],
            output_tokens=event["output_tokens"],
            model=event["model"] or None,
            latency_ms=event["latency_ms"],
            user_email=event["actor_email"] or None,
        )
        corrected += 1
    return corrected
