"""What every telemetry source's normalizer returns, and the naming rule they share. Pure: no
Django, no database (tests/architecture/test_pure_cores.py), so each source's normalizer can
import it without reaching into another source.
"""

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

# A Custom GPT of Claresia is named `claresia-{tenant}-{skill}`.
GPT_PREFIX = "claresia-"


class TelemetryRow(NamedTuple):
    """The columns of `fn_telemetry_event` except the tenant, in insert order."""

    skill_id: int | None
    skill_ref: str
    skill_unknown: bool
    source: str
    source_event_id: str
    event_type: str
    occurred_at: datetime
    actor_user_id: str
    actor_email: str
    gpt_id: str
    gpt_name: str
    conversation_id: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: Decimal | None
    latency_ms: int | None
    error_code: str
    error_message: str
    raw: str  # the audit event as JSON text
    dropped_fields: str  # the numbers out of any column's range, dropped (space-separated)
    # A plugin skill use's `skills_used` id (logs_normalizer.skill_use_rows); empty otherwise.
    plugin_skill_id: str = ""


COLUMNS = ("tenant_id", *TelemetryRow._fields)


def named_for_longer_slug(gpt_name: str, longer_slugs: Collection[str]) -> bool:
    """Whether a GPT name `claresia-{tenant}-{skill}` is under one of `longer_slugs`, the other
    tenants' slugs that extend this one's (`claresia-alpha-eu-foo` is `alpha-eu`'s, not `alpha`'s
    skill `eu-foo`): the longest slug wins, on every ingest path."""
    return any(gpt_name.startswith(f"{GPT_PREFIX}{slug}-") for slug in longer_slugs)
