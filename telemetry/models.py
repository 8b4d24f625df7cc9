"""Telemetry tables.

Section *ingest* (seed Part 4): `fn_telemetry_event`, one row per normalized audit event, and
`PollCursor`, each tenant's poll cursor and poll health. The hub's models live in
`telemetry/hub/models.py` (hub-records-api.md), re-exported here, where Django looks for them.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from claresia.models import Tenant
from skills.models import Skill
from telemetry.app_connection.models import McpClient, McpRedeemedCode
from telemetry.event_kinds import EventKind, EventSource
from telemetry.hub.models import GovernanceEvent, HubRecord, HubToken, ModelPrice

__all__ = [
    "GovernanceEvent",
    "HubRecord",
    "HubToken",
    "LogsCursor",
    "McpClient",
    "McpRedeemedCode",
    "ModelPrice",
    "PluginSkillMapping",
    "PollCursor",
    "TelemetryEvent",
]

# ---- ingest (seed Part 4) -------------------------------------------------------------------


class TelemetryEvent(models.Model):
    """One audit event of a `claresia-*` GPT (operations.md → Tables that other tools read)."""

    # The values are telemetry.event_kinds', which the Django-free normalizers use too.
    class Source(models.TextChoices):
        COMPLIANCE_API = EventSource.COMPLIANCE_API.value, "Compliance API"
        COMPLIANCE_LOGS = EventSource.COMPLIANCE_LOGS.value, "Compliance Logs Platform"
        AUDIT_EXPORT = EventSource.AUDIT_EXPORT.value, "Per-user audit export"

    class EventType(models.TextChoices):
        INVOKED = EventKind.INVOKED.value, "Invoked"
        FAILED = EventKind.FAILED.value, "Failed"
        # A call to the tenant's Claresia MCP app seen in the Logs Platform's APP_LOG: not an
        # invocation of its own (ingest/sources/logs_platform/poller.py says why it is a row).
        APP_CALL = EventKind.APP_CALL.value, "MCP app call"
        # A plugin skill use (`message.author.skills_used`) whose id is not yet mapped to a
        # skill: kept and shown with its count, counted as an invocation once mapped
        # (telemetry/ingest/sources/logs_platform/plugin_skills.py).
        UNMAPPED = EventKind.UNMAPPED.value, "Plugin skill use, skill not yet known"

    # No index of its own: the (tenant, …) indexes below serve tenant lookups, and every index
    # less is faster ingest.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="telemetry_events", db_index=False
    )
    # Empty when the GPT name carries a skill id the tenant does not have: kept and flagged.
    skill = models.ForeignKey(
        Skill, on_delete=models.SET_NULL, null=True, blank=True, related_name="telemetry_events"
    )
    skill_ref = models.CharField("skill id in the GPT name", max_length=64)
    skill_unknown = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    source_event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=8, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    actor_user_id = models.CharField(max_length=128, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    gpt_id = models.CharField("GPT id", max_length=128, blank=True)
    gpt_name = models.CharField("GPT name", max_length=128)
    conversation_id = models.CharField(max_length=128, blank=True)
    model = models.CharField(max_length=64, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    latency_ms = models.PositiveIntegerField("latency (ms)", null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    raw = models.JSONField("raw audit event")
    # Numbers the event carried out of any column's range (say a token count of 2**70):
    # dropped, and named here so the row says it is incomplete.
    dropped_fields = models.CharField(max_length=64, blank=True, default="", db_default="")
    # The opaque `message.author.skills_used` id of a plugin skill use (chatgpt-admin-api.md →
    # CONVERSATION_MESSAGE); its skill is resolved through PluginSkillMapping, at mapping time.
    plugin_skill_id = models.CharField(
        "plugin skill id (skills_used)", max_length=128, blank=True, default="", db_default=""
    )
    ingested_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "fn_telemetry_event"
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "source_event_id"], name="uniq_telemetry_source_event"
            ),
        ]
        indexes = [
            # Covering: the Command Center dashboard's aggregates over a period read only these
            # columns, so they run as index-only scans and never touch the wide `raw` rows.
            models.Index(
                fields=["tenant", "occurred_at"],
                include=["event_type", "skill_ref", "cost_usd", "latency_ms", "error_code"],
                name="telemetry_tenant_time_cover",
            ),
            models.Index(
                fields=["tenant", "skill", "occurred_at"], name="telemetry_tenant_skill_time"
            ),
            # The View record page lists a record's events by conversation; partial,
            # so events without a conversation id cost ingest nothing here.
            models.Index(
                fields=["tenant", "conversation_id"],
                condition=~models.Q(conversation_id=""),
                name="telemetry_tenant_conversation",
            ),
            # A mapping set or corrected resolves every use of its id; partial, so GPT and app
            # rows cost ingest nothing here.
            models.Index(
                fields=["tenant", "plugin_skill_id"],
                condition=~models.Q(plugin_skill_id=""),
                name="telemetry_tenant_plugin_skill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gpt_name} {self.event_type} {self.source_event_id}"


class PollCursor(models.Model):
    """A tenant's Compliance API poll: the cursor, the window in progress, and poll health.

    The algorithm these fields serve is described in `telemetry/ingest/sources/audit_log/poller.py`.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="poll_cursor")
    # Event time (never our clock) up to which every event has been read.
    cursor_at = models.DateTimeField(null=True, blank=True)
    # The frozen window in progress (empty when none), and how far down it has been read.
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    window_newest_at = models.DateTimeField(null=True, blank=True)
    window_resume_after = models.CharField(max_length=128, blank=True)
    # Poll health, shown in the admin.
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_stored = models.PositiveIntegerField(default=0)
    last_skipped = models.PositiveIntegerField(default=0)
    newest_event_at = models.DateTimeField(null=True, blank=True)
    # Event time up to which invocations were checked for a hub record (reconciliation).
    reconciled_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "telemetry poll"
        verbose_name_plural = "telemetry polls"

    def __str__(self) -> str:
        return f"telemetry poll — {self.tenant.slug}"


class LogsCursor(models.Model):
    """A tenant's Compliance Logs Platform poll, per event type: the cursor and poll health.

    The algorithm these fields serve is described in `ingest/sources/logs_platform/poller.py`.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="logs_cursors")
    event_type = models.CharField(max_length=32)
    # Whom the files are read as ("workspace <uuid>" / "organization org-…"); another principal
    # starts a new cursor (re-read rows are no-ops: the unique key absorbs them).
    principal = models.CharField(max_length=80, blank=True)
    # The end_time of the last fully stored file: committed with that file's rows.
    cursor_at = models.DateTimeField(null=True, blank=True)
    last_file_id = models.CharField(max_length=128, blank=True)
    # The Logs Platform's own freshness (`max_event_time`), read at each poll.
    max_event_time = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_gap = models.TextField(blank=True)
    last_gap_at = models.DateTimeField(null=True, blank=True)
    last_files = models.PositiveIntegerField(default=0)
    last_stored = models.PositiveIntegerField(default=0)
    last_malformed = models.PositiveIntegerField(default=0)
    # Where the last poll's malformed lines were ("file … line …: reason"), the first few.
    malformed_report = models.TextField(blank=True)

    class Meta:
        verbose_name = "Logs Platform poll"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "event_type"], name="logs_cursor_per_type")
        ]

    def __str__(self) -> str:
        return f"Logs Platform poll — {self.tenant.slug} {self.event_type}"


class PluginSkillMapping(models.Model):
    """What a tenant's `skills_used` id stands for: one of its skills, or not yet known.

    The mapping is not published (chatgpt-admin-api.md → CONVERSATION_MESSAGE: assumed, learn
    it): Claresia learns it from the hub records of the conversations the id was used in, and
    staff confirm or correct it. A confirmed mapping is never relearned."""

    class State(models.TextChoices):
        UNMAPPED = "unmapped", "Not yet mapped"
        LEARNED = "learned", "Learned from hub records"
        CONFIRMED = "confirmed", "Confirmed by staff"

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="plugin_skill_mappings"
    )
    skills_used_id = models.CharField("skills_used id", max_length=128)
    skill = models.ForeignKey(
        Skill,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plugin_skill_mappings",
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.UNMAPPED)
    # Conversations where the id was used and a hub record of `skill` was written: the evidence
    # a learned mapping rests on.
    agreeing_conversations = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    learned_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "plugin skill mapping"
        ordering = ["tenant", "skills_used_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "skills_used_id"], name="uniq_plugin_skill_mapping"
            )
        ]

    def __str__(self) -> str:
        return f"{self.skills_used_id} → {self.skill.skill_id if self.skill else '?'}"
