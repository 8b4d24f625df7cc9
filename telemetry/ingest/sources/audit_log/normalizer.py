"""Audit event → telemetry row, as a pure function (ARCHITECTURE.md → Pure core, thin edges).

No database, no HTTP, no clock: the caller hands in the tenant's slug, its skills and its price
table (`telemetry.hub.pricing.tenant_price_table`; the list prices `DEFAULT_PRICES` otherwise).
It imports without Django (tests/architecture/test_pure_cores.py). The shapes are
`shared/contracts/openai-enterprise-api.md` → Audit logs. Any optional key may be missing or null
in a real feed; only the event id, its type, its time and the GPT name are needed to make a row.
"""

import json
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

import orjson

from telemetry.event_kinds import EventKind, EventSource
from telemetry.ingest.rows import GPT_PREFIX, TelemetryRow, named_for_longer_slug
from telemetry.pricing_core import DEFAULT_PRICES, token_cost

# The values of TelemetryEvent.EventType and TelemetryEvent.Source come from the one Django-free
# spelling both use (telemetry.event_kinds).
EVENT_TYPES = {"gpt.invoked": EventKind.INVOKED.value, "gpt.failed": EventKind.FAILED.value}
SOURCE_COMPLIANCE_API = EventSource.COMPLIANCE_API.value
SOURCE_AUDIT_EXPORT = EventSource.AUDIT_EXPORT.value
# The largest count the columns hold (PostgreSQL integer); a larger one is dropped and flagged.
MAX_COUNT = 2**31 - 1
# Event times a calendar holds: 1970 to the end of year 9999 (Python's and Django's range).
MAX_EPOCH = 253_402_300_799


class Skipped(StrEnum):
    """Why an audit event makes no row; counted, never an error."""

    NOT_CLARESIA = "not a claresia-* GPT"
    OTHER_TENANT = "another tenant's GPT"
    OTHER_EVENT_TYPE = "not a gpt.invoked / gpt.failed event"


class MalformedEvent(ValueError):
    """The event lacks what a row needs (id, time, GPT name); the message says which."""


def _text(value: Any, limit: int = 128) -> str:
    """Text for a column: cut to its length, without NULs (no PostgreSQL text holds one)."""
    if type(value) is not str:  # the common case is a str: this runs for every field
        if value is None:
            return ""
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit]


class _Count(NamedTuple):
    value: int | None
    dropped: bool  # a number was there, but out of the column's range


def _count(value: Any) -> _Count:
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return _Count(value, False)
    if isinstance(value, bool) or value is None:
        return _Count(None, False)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # text, NaN, infinity
        return _Count(None, isinstance(value, float))
    if number < 0:
        return _Count(None, False)
    if number > MAX_COUNT:
        return _Count(None, True)
    return _Count(number, False)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _without_nuls(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nuls(k): _without_nuls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nuls(item) for item in value]
    return value


def _json_text(event: dict) -> str:
    """The event as JSON text for the `raw` jsonb column, which holds no NUL (\\u0000)."""
    text = _dumps(event)
    # Rare, so checked on the text: a match may also be an escaped backslash, which
    # `_without_nuls` leaves as it is.
    return _dumps(_without_nuls(event)) if "\\u0000" in text else text


def _dumps(event: dict) -> str:
    try:
        return orjson.dumps(event).decode()
    except TypeError:  # an integer beyond 64 bits (the json module writes any size), or depth
        try:
            return json.dumps(event, separators=(",", ":"), allow_nan=False)
        except (ValueError, RecursionError):
            raise MalformedEvent("the audit event is nested too deeply or holds NaN") from None


def event_cost(
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
    prices: Mapping[str, tuple[Decimal, Decimal]],
) -> Decimal | None:
    """Dollars for one call at the tenant's prices; None when the model or usage is unknown."""
    price = prices.get(model)
    if price is None or input_tokens is None or output_tokens is None:
        return None
    return token_cost(input_tokens, output_tokens, price[0], price[1])


def normalize_audit_event(
    event: Any,
    *,
    tenant_slug: str,
    skills: Mapping[str, int],
    prices: Mapping[str, tuple[Decimal, Decimal]] = DEFAULT_PRICES,
    source: str = SOURCE_COMPLIANCE_API,
    longer_slugs: Collection[str] = (),
) -> TelemetryRow | Skipped:
    """One AuditLog → a TelemetryRow, or the reason it is skipped.

    `skills` maps the tenant's skill ids to Skill primary keys. `longer_slugs` are the other
    tenants' slugs that start with this one's and a dash (`alpha-eu` for `alpha`): a GPT name
    under one of them is that tenant's (the longest slug wins; import refuses a skill id that
    would make the names collide), so an event resolves to one tenant only. Raises
    MalformedEvent when the event cannot be a row (no id, no time, not an object).
    """
    if not isinstance(event, dict):
        raise MalformedEvent("the audit event is not a JSON object")
    event_type = EVENT_TYPES.get(event.get("type"))  # type: ignore[arg-type]
    if event_type is None:
        return Skipped.OTHER_EVENT_TYPE
    payload = _dict(event.get(event["type"]))
    gpt_name = payload.get("gpt_name")
    if isinstance(gpt_name, str) and "\x00" in gpt_name:
        gpt_name = gpt_name.replace("\x00", "")
    if not isinstance(gpt_name, str) or not gpt_name.startswith(GPT_PREFIX):
        return Skipped.NOT_CLARESIA
    tenant_prefix = f"{GPT_PREFIX}{tenant_slug}-"
    if not gpt_name.startswith(tenant_prefix):
        return Skipped.OTHER_TENANT
    event_id = _text(event.get("id")) if isinstance(event.get("id"), str) else ""
    if not event_id:
        raise MalformedEvent("the audit event has no id")
    effective_at = event.get("effective_at")
    if isinstance(effective_at, bool) or not isinstance(effective_at, int | float):
        raise MalformedEvent(f"audit event {event_id} has no effective_at (unix seconds)")
    if not 0 <= effective_at <= MAX_EPOCH:  # also false for NaN
        raise MalformedEvent(f"audit event {event_id} has an effective_at no calendar holds")
    if named_for_longer_slug(gpt_name, longer_slugs):
        return Skipped.OTHER_TENANT
    skill_ref = gpt_name[len(tenant_prefix) :]
    skill_pk = skills.get(skill_ref)
    user = _dict(_dict(_dict(event.get("actor")).get("session")).get("user"))
    usage = _dict(payload.get("usage"))
    model = _text(payload.get("model"), 64)
    input_tokens = _count(usage.get("input_tokens"))
    output_tokens = _count(usage.get("output_tokens"))
    latency = _count(payload.get("latency_ms"))
    dropped = " ".join(
        name
        for name, count in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("latency_ms", latency),
        )
        if count.dropped
    )
    error = _dict(payload.get("error"))
    return TelemetryRow(
        skill_id=skill_pk,
        skill_ref=skill_ref[:64],
        skill_unknown=skill_pk is None,
        source=source,
        source_event_id=event_id,
        event_type=event_type,
        occurred_at=datetime.fromtimestamp(int(effective_at), UTC),
        actor_user_id=_text(user.get("id")),
        actor_email=_text(user.get("email"), 254),
        gpt_id=_text(payload.get("gpt_id")),
        gpt_name=gpt_name[:128],
        conversation_id=_text(payload.get("conversation_id")),
        model=model,
        input_tokens=input_tokens.value,
        output_tokens=output_tokens.value,
        cost_usd=event_cost(model, input_tokens.value, output_tokens.value, prices),
        latency_ms=latency.value,
        error_code=_text(error.get("code"), 64),
        error_message=_text(error.get("message"), 2000),
        raw=_json_text(event),
        dropped_fields=dropped,
    )
