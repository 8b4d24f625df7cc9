"""Plugin skill uses: what a `skills_used` id stands for, learned, confirmed and applied.

A plugin skill is not a GPT: the Logs Platform shows its use only as an opaque id in an
assistant message's `message.author.skills_used` (chatgpt-admin-api.md → CONVERSATION_MESSAGE;
how an id maps to a plugin's `SKILL.md` is not published). Each use is stored as its own
`fn_telemetry_event` row (key: the line's `event_id` + the skill id, `logs_normalizer
.skill_use_rows`) carrying the id in `plugin_skill_id`; the skill is resolved here, at mapping
time, never by re-reading the Logs Platform:

- **Seen**: every id read gets a `PluginSkillMapping` (state *unmapped*), so an id nobody has
  mapped yet is shown with its count and never dropped; its rows are of type `unmapped`, which
  the dashboard does not count as invocations.
- **Learned**: after each poll, an id that staff have not confirmed is mapped to the skill whose
  hub records were written in the most of the conversations it was used in (strictly more than
  any other skill). Its rows become invocations of that skill; they are then reconciled like a
  GPT's (a conversation with no hub record of that skill is "Hub record missing").
- **Confirmed or corrected** by staff (`plugin_skill_mapping_set`): never relearned; the rows
  follow at once.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from claresia.models import Tenant
from skills.selectors import skill_of
from telemetry.hub.models import HubRecord
from telemetry.ingest.reconcile import HORIZON, telemetry_reconcile
from telemetry.ingest.rows import TelemetryRow
from telemetry.models import PluginSkillMapping, TelemetryEvent

logger = logging.getLogger(__name__)

# Conversations of an id's newest uses that learning looks at: enough to outvote a stray record.
LEARN_SAMPLE = 500
# How far apart an MCP call and the hub record it wrote may be (assumed: the record is written
# while the call runs, well within a minute).
RECORD_CALL_WINDOW = timedelta(minutes=2)


class MappingError(ValueError):
    """A mapping staff cannot set (an unknown id, another tenant's skill); says why."""


class MappingNotFound(MappingError):
    """No such `skills_used` id for this tenant (another tenant's is not disclosed)."""


def plugin_skill_map(*, tenant: Tenant) -> dict[str, tuple[str, int]]:
    """skills_used id → (skill id, Skill pk) for the tenant's mapped ids: what the poller
    resolves a new use with."""
    return {
        used: (skill_ref, skill_pk)
        for used, skill_ref, skill_pk in PluginSkillMapping.objects.filter(
            tenant=tenant, skill__isnull=False
        ).values_list("skills_used_id", "skill__skill_id", "skill_id")
    }


def plugin_skill_ids_seen(*, tenant_id: int, rows: Iterable[TelemetryRow]) -> int:
    """A mapping (unmapped) for every id these rows name that has none yet; how many were new.
    Called in the transaction that stores the rows."""
    first_seen: dict[str, datetime] = {}
    for row in rows:
        if row.plugin_skill_id:
            seen = first_seen.get(row.plugin_skill_id)
            if seen is None or row.occurred_at < seen:
                first_seen[row.plugin_skill_id] = row.occurred_at
    if not first_seen:
        return 0
    created = PluginSkillMapping.objects.bulk_create(
        [
            PluginSkillMapping(tenant_id=tenant_id, skills_used_id=used, first_seen_at=at)
            for used, at in first_seen.items()
        ],
        ignore_conflicts=True,
    )
    return len(created)


def hub_record_conversations_fill(*, tenant: Tenant, now: datetime) -> int:
    """Give a hub record without a conversation id the conversation of the `APP_LOG` call that
    wrote it; the number of records filled.

    **Assumed** (chatgpt-admin-api.md publishes no header for `/mcp`): a GPT action sends
    `openai-conversation-id`, and `/mcp` keeps whichever conversation id ChatGPT's request
    carries (`app_connection/server.py`); when it carried none, the record was written by the call
    to the Claresia app nearest in time (within RECORD_CALL_WINDOW), whose `APP_LOG` line names
    its conversation. This is the one function to correct."""
    records = list(
        HubRecord.objects.filter(
            tenant=tenant, openai_conversation_id="", created_at__gte=now - HORIZON
        ).values_list("id", "created_at")
    )
    if not records:
        return 0
    calls = list(
        TelemetryEvent.objects.filter(
            tenant=tenant,
            event_type=TelemetryEvent.EventType.APP_CALL,
            occurred_at__gte=min(at for _, at in records) - RECORD_CALL_WINDOW,
            occurred_at__lte=max(at for _, at in records) + RECORD_CALL_WINDOW,
        )
        .exclude(conversation_id="")
        .order_by()
        .values_list("occurred_at", "conversation_id")
    )
    filled = 0
    for record_id, created_at in records:
        near = [
            (abs(at - created_at), conversation)
            for at, conversation in calls
            if abs(at - created_at) <= RECORD_CALL_WINDOW
        ]
        if near:
            conversation = min(near)[1]
            filled += HubRecord.objects.filter(pk=record_id, openai_conversation_id="").update(
                openai_conversation_id=conversation[:200]
            )
    return filled


def _votes(tenant: Tenant, skills_used_id: str) -> Counter:
    """Per skill pk: the conversations of the id's newest uses where a hub record of that skill
    was written."""
    conversations = set(
        TelemetryEvent.objects.filter(tenant=tenant, plugin_skill_id=skills_used_id)
        .exclude(conversation_id="")
        .order_by("-occurred_at")
        .values_list("conversation_id", flat=True)[:LEARN_SAMPLE]
    )
    votes: Counter = Counter()
    for _conversation, skill_pk in (
        HubRecord.objects.filter(tenant=tenant, openai_conversation_id__in=conversations)
        .values_list("openai_conversation_id", "skill_id")
        .distinct()
    ):
        votes[skill_pk] += 1
    return votes


def plugin_skills_learn(*, tenant: Tenant, now: datetime) -> int:
    """Learn the mapping of every id staff have not confirmed (module docstring); the number
    of mappings that changed. Their rows are resolved and reconciled at once."""
    hub_record_conversations_fill(tenant=tenant, now=now)
    changed = 0
    for mapping in PluginSkillMapping.objects.filter(tenant=tenant).exclude(
        state=PluginSkillMapping.State.CONFIRMED
    ):
        ranked = _votes(tenant, mapping.skills_used_id).most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            continue  # nothing to learn from, or a tie: stay as it is
        skill_pk, agreeing = ranked[0]
        mapping.agreeing_conversations = agreeing
        if mapping.skill_id == skill_pk:
            mapping.save(update_fields=["agreeing_conversations"])
            continue
        with transaction.atomic():
            mapping.skill_id, mapping.state, mapping.learned_at = (
                skill_pk,
                PluginSkillMapping.State.LEARNED,
                now,
            )
            mapping.save()
            _resolve(tenant, mapping.skills_used_id, mapping.skill)
        logger.info(
            "telemetry %s: skills_used id %s learned as skill %s (%d conversations)",
            tenant.slug,
            mapping.skills_used_id,
            mapping.skill.skill_id,
            agreeing,
        )
        changed += 1
    if changed:
        # Uses read before their id was learned may lie behind the range the poll's own
        # reconciliation checks: check the horizon (idempotent, nothing advances).
        telemetry_reconcile(tenant=tenant, now=now, since=now - HORIZON)
    return changed


def _resolve(tenant: Tenant, skills_used_id: str, skill) -> int:  # skill: a Skill or None
    """Every stored use of the id as an invocation of `skill` (or back to unmapped); cost,
    latency and failure are taken again from that skill's hub records by reconciliation."""
    uses = TelemetryEvent.objects.filter(
        tenant=tenant,
        source=TelemetryEvent.Source.COMPLIANCE_LOGS,
        plugin_skill_id=skills_used_id,
    )
    if skill is None:
        return uses.update(
            skill=None,
            skill_ref=skills_used_id[:64],
            skill_unknown=True,
            event_type=TelemetryEvent.EventType.UNMAPPED,
            cost_usd=None,
            latency_ms=None,
            error_code="",
        )
    return uses.update(
        skill=skill,
        skill_ref=skill.skill_id,
        skill_unknown=False,
        event_type=TelemetryEvent.EventType.INVOKED,
        cost_usd=None,
        latency_ms=None,
        error_code="",
    )


def plugin_skill_mapping_set(
    *, tenant: Tenant, mapping_id: int, skill_id: str, user, now: datetime | None = None
) -> PluginSkillMapping:
    """Staff confirm or correct what an id stands for (`skill_id` empty: not one of the
    tenant's skills). Its stored uses follow at once, and are reconciled with the hub. Raises
    MappingError for a mapping or skill the tenant does not have."""
    now = now or timezone.now()
    mapping = PluginSkillMapping.objects.filter(tenant=tenant, pk=mapping_id).first()
    if mapping is None:
        raise MappingNotFound("No such skills_used id for this tenant.")
    skill = None
    if skill_id:
        skill = skill_of(tenant=tenant, skill_id=skill_id)
        if skill is None:
            raise MappingError(f"The tenant has no skill {skill_id!r}.")
    with transaction.atomic():
        changed = mapping.skill_id != (skill.pk if skill else None)
        mapping.skill = skill
        mapping.state = PluginSkillMapping.State.CONFIRMED
        mapping.confirmed_at, mapping.confirmed_by = now, user
        mapping.save()
        if changed:
            _resolve(tenant, mapping.skills_used_id, skill)
    if changed:
        telemetry_reconcile(tenant=tenant, now=now, since=now - HORIZON)
    logger.info(
        "telemetry %s: skills_used id %s confirmed as %s",
        tenant.slug,
        mapping.skills_used_id,
        skill.skill_id if skill else "not one of the tenant's skills",
    )
    return mapping
