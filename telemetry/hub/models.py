"""Hub tokens, hub records, governance events and the per-tenant price table.

See `shared/contracts/hub-records-api.md`. Records carry the OpenAI conversation / user / GPT ids
so the telemetry poller can match its events to them and correct estimated cost and latency.
"""

import re
import secrets
import time

from django.conf import settings
from django.db import models
from django.db.models import Q

from claresia.models import Tenant
from skills.models import Skill

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECORD_ID_PATTERN = r"^rec_[0-9A-HJKMNP-TV-Z]{26}$"
_RECORD_ID = re.compile(RECORD_ID_PATTERN)


# Two Crockford digits for each 10-bit number, and the shifts of a ULID's 13 pairs (26 digits
# of 5 bits: 130 bits, the top two always 0), most significant first.
_PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)
_PAIR_SHIFTS = tuple(range(120, -1, -10))


def new_record_id() -> str:
    """`rec_` + a ULID: time-ordered (index-friendly) and unguessable (80 random bits)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "rec_" + "".join([_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


def is_record_id(value: str) -> bool:
    """Whether `value` can be a record id: anything else is never looked up (a NUL from a URL
    would otherwise reach PostgreSQL)."""
    return bool(_RECORD_ID.fullmatch(value))


class HubToken(models.Model):
    """A tenant's bearer token for the hub API. Only its HMAC-SHA256 digest is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="hub_tokens")
    name = models.CharField(max_length=80, help_text="What uses it, e.g. 'published GPTs'.")
    # The public half of the token: finds the row without comparing secrets in SQL.
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    last4 = models.CharField("ends with", max_length=4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.last4}, {self.tenant.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class HubRecord(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        REFUSED = "refused", "Refused (output not shared)"
        # The skill ran and did not finish: `error_code` says why, and the dashboard counts the
        # use as a failure (telemetry/ingest/reconcile.py).
        FAILED = "failed", "Failed"

    id = models.CharField(primary_key=True, max_length=30, default=new_record_id, editable=False)
    # Indexed by (tenant, conversation) below, which also serves lookups by tenant alone.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="hub_records", db_index=False
    )
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="hub_records")
    token = models.ForeignKey(
        HubToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COMPLETED)
    error_code = models.CharField(
        "why it failed", max_length=64, blank=True, default="", db_default=""
    )
    record_key = models.CharField(max_length=200, blank=True)
    # sha256(conversation id, output): the idempotency key of a call without a record_key.
    content_hash = models.CharField(max_length=64)
    inputs = models.JSONField(default=dict, blank=True)
    output = models.TextField(blank=True)
    model = models.CharField(max_length=64, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField("latency (ms)", default=0)
    cost_estimated = models.BooleanField(default=False)
    latency_estimated = models.BooleanField(default=False)
    openai_conversation_id = models.CharField("OpenAI conversation id", max_length=200, blank=True)
    openai_ephemeral_user_id = models.CharField(
        "OpenAI ephemeral user id", max_length=200, blank=True
    )
    openai_gpt_id = models.CharField("OpenAI GPT id", max_length=200, blank=True)
    user_email = models.EmailField(blank=True, help_text="From telemetry, when it supplies one.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    corrected_at = models.DateTimeField(
        null=True, blank=True, help_text="When telemetry replaced the estimates."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Reconciliation and the record page find a tenant's records of a conversation.
            # A plain btree: no varchar_pattern_ops twin, which only LIKE 'x%' would use.
            models.Index(
                fields=["tenant", "openai_conversation_id"], name="hub_record_conversation"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "record_key"],
                condition=~Q(record_key=""),
                name="uniq_hub_record_key",
            ),
            models.UniqueConstraint(
                fields=["tenant", "skill", "content_hash"],
                condition=Q(record_key=""),
                name="uniq_hub_record_content",
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def estimated(self) -> bool:
        return self.cost_estimated or self.latency_estimated


class GovernanceEvent(models.Model):
    """Something governance must see: an output the user refused to share, an invocation with no
    hub record (written by the telemetry reconciliation), … Idempotent on (tenant, kind, key)."""

    class Kind(models.TextChoices):
        OUTPUT_REFUSED = "output_refused", "Output not shared (refused)"
        HUB_RECORD_MISSING = "hub_record_missing", "Hub record missing"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="governance_events")
    skill = models.ForeignKey(
        Skill, on_delete=models.SET_NULL, null=True, blank=True, related_name="governance_events"
    )
    hub_record = models.ForeignKey(
        HubRecord,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="governance_events",
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    message = models.CharField(max_length=500)
    openai_conversation_id = models.CharField(
        "OpenAI conversation id", max_length=200, blank=True, db_index=True
    )
    dedupe_key = models.CharField(
        "what makes the event one of a kind",
        max_length=200,
        help_text=(
            "The same event seen twice (the same invocation, the same record) has the same "
            "value here, so it is written once per tenant and kind."
        ),
    )
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Open until someone with the admin role on the tenant marks it reviewed.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "dedupe_key"], name="uniq_governance_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.tenant.slug})"

    @property
    def is_open(self) -> bool:
        return self.reviewed_at is None


class ModelPrice(models.Model):
    """A tenant's price for a model, per million tokens; overrides the built-in defaults."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="model_prices")
    model = models.CharField(max_length=64, help_text="As GPTs report it, e.g. gpt-4o.")
    input_usd_per_million = models.DecimalField(
        "input $ / 1M tokens", max_digits=10, decimal_places=4
    )
    output_usd_per_million = models.DecimalField(
        "output $ / 1M tokens", max_digits=10, decimal_places=4
    )

    class Meta:
        ordering = ["tenant", "model"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "model"], name="uniq_model_price"),
            models.CheckConstraint(
                condition=Q(input_usd_per_million__gte=0) & Q(output_usd_per_million__gte=0),
                name="model_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} ({self.tenant.slug})"
