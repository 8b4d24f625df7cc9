"""Hub services: tokens (mint, authenticate, revoke), records (emit, correct) and governance
events. The DRF views, the admin and `issue_hub_token` only call these."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from claresia.models import Tenant
from skills.selectors import skill_for_hub
from telemetry.hub import hotcache, pricing
from telemetry.hub.footer import footer_text
from telemetry.hub.links import record_link_token
from telemetry.hub.models import (
    GovernanceEvent,
    HubRecord,
    HubToken,
    is_record_id,
    new_record_id,
)

if TYPE_CHECKING:
    from skills.models import Skill

TOKEN_PREFIX = "chub"  # noqa: S105 - a label, not a secret
# last_used_at is a hint for staff, not an audit trail: write it at most once a minute per token
# so the hot path stays one read.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEY_ID = re.compile(r"[0-9a-f]{12}")
# A prepare_threshold no statement's count reaches: psycopg prepares only what is executed
# with prepare=True (_insert_cursor).
_NEVER = sys.maxsize


# ---- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: HubToken
    plaintext: str  # shown once, never stored


def _digest(plaintext: str) -> str:
    pepper = (settings.HUB_TOKEN_PEPPER or settings.SECRET_KEY).encode()
    return hmac.new(pepper, plaintext.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def hub_token_issue(*, tenant: Tenant, name: str = "published GPTs") -> IssuedToken:
    key_id = secrets.token_hex(6)
    plaintext = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    token = HubToken.objects.create(
        tenant=tenant,
        name=name.strip() or "published GPTs",
        key_id=key_id,
        digest=_digest(plaintext),
        last4=plaintext[-4:],
    )
    return IssuedToken(token=token, plaintext=plaintext)


def hub_token_authenticate(*, plaintext: str) -> HubToken | None:
    """The active token `plaintext` is, or None. Every failure looks the same to the caller."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not _KEY_ID.fullmatch(parts[1]):
        return None
    digest = _digest(plaintext)
    # Keyed by the peppered digest (never the plaintext): a hit is a token this process saw
    # valid less than hotcache.HOT_CACHE_SECONDS ago; a miss always asks the database.
    token = hotcache.tokens.get(digest)
    if token is None:
        token = _active_token(key_id=parts[1], digest=digest)
        if token is None:
            return None
        hotcache.tokens.put(digest, token)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        HubToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _active_token(*, key_id: str, digest: str) -> HubToken | None:
    try:
        # get(), not first(): no ORDER BY to build (the key id is unique).
        token = HubToken.objects.select_related("tenant").get(
            key_id=key_id, revoked_at__isnull=True
        )
    except HubToken.DoesNotExist:
        token = None
    # Compare even when no row matched, so timing does not tell a known key id from an unknown.
    expected = token.digest if token else "0" * 64
    if not hmac.compare_digest(expected, digest) or token is None:
        return None
    return token


def hub_tokens_revoke(*, tokens) -> int:
    """Revoke the given tokens (a queryset); returns how many were active.

    This process stops accepting them at once; every other process within
    hotcache.HOT_CACHE_SECONDS (its remembered copy expires)."""
    revoked = tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    hotcache.forget_all()
    return revoked


# ---- records ---------------------------------------------------------------------------------


class SkillNotFound(Exception):
    """The token's tenant has no skill with that id (whoever else may have one). `message` is
    what the REST API's 404 and the MCP tool's error say: never whether another tenant has it."""

    message = "This tenant has no skill with this id."


@dataclass(frozen=True)
class EmitResult:
    record: HubRecord
    created: bool


@dataclass(frozen=True)
class OpenAIContext:
    """The headers ChatGPT adds to every action call."""

    conversation_id: str = ""
    ephemeral_user_id: str = ""
    gpt_id: str = ""


def hub_record_url(record: HubRecord) -> str:
    """The record page; with the end user's signed link while the tenant allows it."""
    url = f"{record.tenant.hub_base}/hub/records/{record.id}"
    if record.tenant.record_links:
        url += f"?link={record_link_token(record_id=record.id, created_at=record.created_at)}"
    return url


def hub_record_footer(record: HubRecord, *, url: str | None = None) -> str:
    """The footer a GPT ends its reply with; `url` is hub_record_url(record) when the caller
    has it already (signing the link is a tenth of a call's own work)."""
    return footer_text(
        skill_name=record.skill.name,
        cost_usd=record.cost_usd,
        latency_ms=record.latency_ms,
        url=hub_record_url(record) if url is None else url,
    )


def _content_hash(*, conversation_id: str, output: str) -> str:
    # The skill is its own column of the unique key; NUL cannot occur in either part.
    return hashlib.sha256(f"{conversation_id}\x00{output}".encode()).hexdigest()


def _instructions(skill: Skill) -> str:
    value = skill.ir.get("instructions") if isinstance(skill.ir, dict) else None
    return value if isinstance(value, str) else ""


def hub_record_emit(
    *,
    token: HubToken | None = None,
    tenant: Tenant | None = None,
    skill_id: str,
    output: str,
    status: str = HubRecord.Status.COMPLETED,
    error_code: str = "",
    record_key: str = "",
    inputs: dict | None = None,
    model: str = "",
    usage: pricing.Usage | None = None,
    latency_ms: int | None = None,
    context: OpenAIContext = OpenAIContext(),
) -> EmitResult:
    """Store what a GPT produced, once: a repeat (same record_key, or without one the same
    conversation + skill + output) returns the first record, also under concurrent repeats.
    Raises SkillNotFound when the tenant has no such skill.

    The caller is known by its hub token (`POST /hub/v1/records`) or, for the hub's MCP
    endpoint, by the tenant its OAuth grant is bound to (then `token` is None)."""
    if tenant is None:
        tenant = token.tenant
    skill, price = _skill_and_price(tenant_id=tenant.pk, skill_id=skill_id, model=model)
    inputs = inputs or {}
    content_hash = _content_hash(conversation_id=context.conversation_id, output=output)
    refused = status == HubRecord.Status.REFUSED
    cost_estimated = usage is None
    if usage is None:
        usage = pricing.estimate_usage(
            instructions=_instructions(skill), inputs=inputs, output=output
        )
    latency_estimated = latency_ms is None
    if latency_ms is None:
        latency_ms = pricing.estimate_latency_ms(output_tokens=usage.output_tokens)
    record = _new_record(
        tenant=tenant,
        skill=skill,
        token=token,
        status=status,
        # The reason belongs to a failed run only.
        error_code=error_code if status == HubRecord.Status.FAILED else "",
        record_key=record_key,
        content_hash=content_hash,
        # A refused output is not kept (hub-records-api.md); only its cost and ids are.
        inputs={} if refused else inputs,
        output="" if refused else output,
        model=model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=pricing.cost_usd(usage=usage, price=price),
        latency_ms=latency_ms,
        cost_estimated=cost_estimated or not price.known,
        latency_estimated=latency_estimated,
        openai_conversation_id=context.conversation_id,
        openai_ephemeral_user_id=context.ephemeral_user_id,
        openai_gpt_id=context.gpt_id,
    )
    # Insert first and let the unique constraints catch repeats: a repeat is rare, and this
    # way one round trip serves the common case and concurrent repeats alike.
    try:
        if refused or connection.in_atomic_block:
            # Two writes, or inside a caller's transaction: a savepoint keeps a repeat's
            # IntegrityError from breaking it.
            with transaction.atomic():
                _insert_record(record)
                if refused:
                    _refusal_event(record)
        else:
            # One INSERT in autocommit is atomic by itself (and saves BEGIN/COMMIT round trips).
            _insert_record(record)
    except IntegrityError:
        existing = _find_existing(
            tenant=tenant, skill=skill, record_key=record_key, content_hash=content_hash
        )
        if existing is None:
            raise
        return EmitResult(existing, created=False)
    return EmitResult(record, created=True)


@functools.cache
def _insert_sql() -> tuple[str, tuple]:
    fields = tuple(HubRecord._meta.local_concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return (
        # Names from the model, quoted; values go as parameters.
        f"INSERT INTO {quote(HubRecord._meta.db_table)} ({columns}) VALUES ({placeholders})",  # noqa: S608
        fields,
    )


def hub_record_emit_values(
    values: dict,
    *,
    token: HubToken | None = None,
    tenant: Tenant | None = None,
    context: OpenAIContext = OpenAIContext(),
) -> EmitResult:
    """`hub_record_emit` with a request body's validated values (`emit_hub_record_values`): the
    one mapping of the body for `POST /hub/v1/records` and the MCP tool."""
    usage = values.get("usage")
    return hub_record_emit(
        token=token,
        tenant=tenant,
        skill_id=values["skill_id"],
        output=values["output"],
        status=values["status"],
        error_code=values.get("error_code", ""),
        record_key=values.get("record_key", ""),
        inputs=values.get("inputs"),
        model=values.get("model", ""),
        usage=pricing.Usage(**usage) if usage else None,
        latency_ms=values.get("latency_ms"),
        context=context,
    )


def _new_record(*, tenant: Tenant, skill: Skill, token: HubToken | None, **values) -> HubRecord:
    """`HubRecord(tenant=…, skill=…, token=…, **values)`, built as Model.__init__'s positional
    path (the one from_db uses) builds it: each field's value (or default) set on a new
    instance with a fresh ModelState, without the keyword path's work (a fifth of the
    service's own). While nothing listens to HubRecord's pre_init and post_init, the
    instance's attributes are written at once (what __init__'s setattr of each attname does on
    a new instance); otherwise it is HubRecord(*values). The related objects are cached as
    their descriptors would cache them."""
    values["id"] = new_record_id()
    values["tenant_id"] = tenant.pk
    values["skill_id"] = skill.pk
    values["token_id"] = token.pk if token is not None else None
    attnames, defaults, related = _record_fields()
    row = [values[name] if name in values else default() for name, default in defaults]
    if pre_init.has_listeners(HubRecord) or post_init.has_listeners(HubRecord):
        record = HubRecord(*row)
    else:
        record = HubRecord.__new__(HubRecord)
        record._state = ModelState()
        record.__dict__.update(zip(attnames, row, strict=True))
    for field, value in zip(related, (tenant, skill, token), strict=True):
        field.set_cached_value(record, value)
    return record


@functools.cache
def _record_fields() -> tuple[tuple[str, ...], tuple[tuple[str, object], ...], tuple]:
    """HubRecord's concrete fields' attnames, (attname, default) pairs, and its related fields
    tenant, skill and token."""
    fields = HubRecord._meta.concrete_fields
    return (
        tuple(field.attname for field in fields),
        tuple((field.attname, field.get_default) for field in fields),
        tuple(HubRecord._meta.get_field(name) for name in ("tenant", "skill", "token")),
    )


@functools.cache
def _plain_types() -> dict[str, type]:
    """The fields whose prepared value is the attribute itself when it has this exact type:
    CharField and TextField's to_python keep a str, BooleanField's a bool, and a foreign key
    prepares its target's int as it is. (Integer fields are not among them: the PostgreSQL
    backend wraps their values in psycopg's sized integer types.)"""
    kinds = {
        "CharField": str,
        "TextField": str,
        "BooleanField": bool,
        "ForeignKey": int,
    }
    return {
        field.attname: kinds[field.get_internal_type()]
        for field in HubRecord._meta.local_concrete_fields
        if field.get_internal_type() in kinds
    }


def _direct(field) -> tuple[type, object] | None:
    """For a field that is not among `_plain_types`: the exact type for which the field's
    `get_db_prep_save` comes down to one backend adaptation, and that adaptation as a
    function of (value, ops); None to let the field prepare every value.

    What the field's own steps do with a value of that type, step by step: an int's
    get_prep_value is int(value) (the same int), a finite Decimal's to_python is Decimal(value)
    (the same number), an aware datetime's to_python is itself, and a JSON field's
    get_prep_value keeps a dict; what is left is the backend's adapt_*_value, called here."""
    kind = field.get_internal_type()
    if kind in ("IntegerField", "PositiveIntegerField", "BigIntegerField"):
        return int, lambda value, ops: ops.adapt_integerfield_value(value, kind)
    if kind == "DecimalField":
        digits, places = field.max_digits, field.decimal_places
        return (
            Decimal,
            lambda value, ops: (
                ops.adapt_decimalfield_value(value, digits, places) if value.is_finite() else None
            ),
        )
    if kind == "DateTimeField":
        return (
            datetime,
            lambda value, ops: (
                ops.adapt_datetimefield_value(value) if value.tzinfo is not None else None
            ),
        )
    if kind == "JSONField":
        encoder = field.encoder
        return dict, lambda value, ops: ops.adapt_json_value(value, encoder)
    return None


@functools.cache
def _direct_preparers() -> dict[str, tuple[type, object]]:
    return {
        field.attname: direct
        for field in HubRecord._meta.local_concrete_fields
        if field.attname not in _plain_types() and (direct := _direct(field)) is not None
    }


def _insert_params(record: HubRecord, db) -> list:
    """The INSERT's values, as `save(force_insert=True)` prepares them; an attribute that is
    already its column's plain Python type (or None) is its own prepared value, and one of the
    exact type `_direct` names gets the backend's adaptation alone. Any other value (a NaN, a
    naive datetime, an int given to a decimal field…) is prepared by its field, which also
    raises what save() would raise. Every field's pre_save runs (created_at's auto_now_add)."""
    _, fields = _insert_sql()
    plain = _plain_types()
    direct = _direct_preparers()
    ops = db.ops
    params = []
    for field in fields:
        attname = field.attname
        kind = plain.get(attname)
        if kind is not None:
            value = getattr(record, attname)
            if value is None or type(value) is kind:
                params.append(value)
                continue
        value = field.pre_save(record, True)
        how = direct.get(attname)
        if how is not None:
            if value is None:  # NULL: what each of these fields prepares None as
                params.append(None)
                continue
            if type(value) is how[0]:
                prepared = how[1](value, ops)
                if prepared is not None:
                    params.append(prepared)
                    continue
        params.append(field.get_db_prep_save(value, db))
    return params


class _PreparedCursor(psycopg.Cursor):
    """A server-side-binding cursor that prepares what it executes: the values travel apart
    from the statement (nothing to quote into it), and PostgreSQL parses and plans the INSERT
    once per connection and parameter types, not once per call."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


def _insert_cursor(db):
    """A cursor for the INSERT: on PostgreSQL a prepared, server-side-binding one (no literals
    quoted into the statement, no parse and plan per call: less CPU on both sides), wrapped as
    Django wraps its own cursors (error translation, the broken-transaction check, execute
    wrappers, and the debug cursor that logs queries when queries are logged); elsewhere
    (SQLite for `make run`) Django's own cursor.

    Django opens psycopg connections with prepared statements off (prepare_threshold None),
    under which psycopg ignores prepare=True. A connection that still has it off gets a
    threshold no other query reaches, so this INSERT (executed with prepare=True) is the
    only statement it prepares; Django's own cursors bind client-side and never prepare.

    Deployment caveat: a prepared statement lives in one server session. Behind a
    transaction-mode PgBouncer older than 1.21 (or any pooler that does not track protocol-
    level prepared statements) the next transaction may run on another session, which does
    not have it. There set HUB_PREPARED_INSERT=false (the INSERT is then bound server-side
    but not prepared). See psycopg's "Prepared statements":
    https://www.psycopg.org/psycopg3/docs/advanced/prepare.html"""
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        pg = db.connection
        if not settings.HUB_PREPARED_INSERT:
            cursor = psycopg.Cursor(pg)
        else:
            if pg.prepare_threshold is None:
                pg.prepare_threshold = _NEVER
            cursor = _PreparedCursor(pg)
        db.validate_thread_sharing()
        return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)


def _insert_record(record: HubRecord) -> None:
    """`record.save(force_insert=True)` without building the INSERT anew each time (the ORM's
    compiler cost about as much as the round trip; bench_hub). HubRecord has no save() override
    and no signal receivers, so the values are exactly what save() would send
    (test_hub_insert_params.py compares them)."""
    sql, _ = _insert_sql()
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per use
    params = _insert_params(record, db)
    with _insert_cursor(db) as cursor:
        cursor.execute(sql, params)
    # As save() leaves it: `_state` and `_meta` are documented model APIs, not private ones.
    record._state.adding = False
    record._state.db = db.alias


def _skill_and_price(*, tenant_id: int, skill_id: str, model: str) -> tuple[Skill, pricing.Price]:
    """The tenant's skill and its price for `model`, from memory when read in the last
    hotcache.HOT_CACHE_SECONDS, else in one query. Raises SkillNotFound (never remembered)."""
    key = (tenant_id, skill_id, model)
    found = hotcache.skills.get(key)
    if found is not None:
        return found
    skill = skill_for_hub(
        tenant_id=tenant_id,
        skill_id=skill_id,
        annotations=pricing.tenant_price_subqueries(model=model),
    )
    if skill is None:
        raise SkillNotFound(skill_id)
    price = pricing.price_from(model=model, row=(skill.price_input, skill.price_output))
    hotcache.skills.put(key, (skill, price))
    return skill, price


def _find_existing(
    *, tenant: Tenant, skill: Skill, record_key: str, content_hash: str
) -> HubRecord | None:
    records = HubRecord.objects.select_related("tenant", "skill")
    if record_key:
        return records.filter(tenant=tenant, record_key=record_key).first()
    return records.filter(
        tenant=tenant, skill=skill, record_key="", content_hash=content_hash
    ).first()


def _refusal_event(record: HubRecord) -> GovernanceEvent:
    return governance_event_record(
        tenant=record.tenant,
        kind=GovernanceEvent.Kind.OUTPUT_REFUSED,
        dedupe_key=record.id,
        message=f"The user did not share the output of {record.skill.name}.",
        skill=record.skill,
        hub_record=record,
        conversation_id=record.openai_conversation_id,
        occurred_at=record.created_at,
        details={"ephemeral_user_id": record.openai_ephemeral_user_id},
    )


def hub_record_get(*, token: HubToken, record_id: str) -> HubRecord | None:
    """The token's tenant's record with this id, or None (another tenant's is None too)."""
    if not is_record_id(record_id):
        return None
    return (
        HubRecord.objects.select_related("tenant", "skill")
        .filter(tenant_id=token.tenant_id, pk=record_id)
        .first()
    )


def hub_record_correct_from_telemetry(
    *,
    record: HubRecord,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    model: str | None = None,
    latency_ms: int | None = None,
    user_email: str | None = None,
) -> HubRecord:
    """Replace a record's estimates with what its telemetry event measured.

    The poller (seed Part 4) calls this when an event matches a record (same conversation / GPT).
    Usage given replaces the token counts and the cost (priced with the tenant's table, flag
    cleared); a latency given replaces the latency (flag cleared). Safe to call twice."""
    fields = ["corrected_at"]
    if model:
        record.model = model
        fields.append("model")
    if input_tokens is not None and output_tokens is not None:
        price = pricing.price_for(tenant=record.tenant, model=record.model)
        usage = pricing.Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        record.input_tokens = input_tokens
        record.output_tokens = output_tokens
        record.cost_usd = pricing.cost_usd(usage=usage, price=price)
        record.cost_estimated = not price.known
        fields += ["input_tokens", "output_tokens", "cost_usd", "cost_estimated"]
    if latency_ms is not None:
        record.latency_ms = latency_ms
        record.latency_estimated = False
        fields += ["latency_ms", "latency_estimated"]
    if user_email:
        record.user_email = user_email
        fields.append("user_email")
    record.corrected_at = timezone.now()
    record.save(update_fields=fields)
    return record


# ---- governance events -----------------------------------------------------------------------


def governance_event_record(
    *,
    tenant: Tenant,
    kind: str,
    dedupe_key: str,
    message: str,
    occurred_at: datetime,
    skill: Skill | None = None,
    hub_record: HubRecord | None = None,
    conversation_id: str = "",
    details: dict | None = None,
) -> GovernanceEvent:
    """Write a governance event once: the same (tenant, kind, dedupe_key) returns the first."""
    event, _ = GovernanceEvent.objects.get_or_create(
        tenant=tenant,
        kind=kind,
        dedupe_key=dedupe_key,
        defaults={
            "message": message[:500],
            "occurred_at": occurred_at,
            "skill": skill,
            "hub_record": hub_record,
            "openai_conversation_id": conversation_id,
            "details": details or {},
        },
    )
    return event


def governance_events_review(*, events, user) -> int:
    """Mark the open events among `events` (a queryset) reviewed by `user`; returns how many.
    An event already reviewed keeps who reviewed it first and when."""
    return events.filter(reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=user
    )


def governance_events_reopen(*, events) -> int:
    """Undo *Mark reviewed*: the reviewed events among `events` are open again; returns how many."""
    return events.filter(reviewed_at__isnull=False).update(reviewed_at=None, reviewed_by=None)
