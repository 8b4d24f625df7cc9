"""Compliance Logs Platform line → telemetry row, as a pure function (ARCHITECTURE.md → Pure
core, thin edges): no database, no HTTP, no clock, no Django.

A `CONVERSATION_MESSAGE` line (`shared/contracts/chatgpt-admin-api.md` → Compliance Logs
Platform) carries `event_id`, `timestamp`, `actor`, `conversation {id, gpt_id, project_id}` and
`message {author {type, model, client_type}, …content}`. Each `user` message in a conversation
with one of the tenant's Claresia GPTs is one invocation; an `assistant` message gives the model.

**Message content is customer data Claresia never stores, logs or shows**: only the fields named
in `_safe_raw` are read, and the row's `raw` is built from them alone, never from the line.

An `APP_LOG` tool call is two lines (chatgpt-admin-api.md → APP_LOG, verified from samples):
`log_type: request` (the arguments in `input`, with the user's locale, session and location in
`input._meta`) then `log_type: response` (`output[].response`: the tool's `action_name`,
`result {content, isError}`, `internal.external_call_time_ms`). A call to the tenant's Claresia
app is one `app_call` row, made from the response line: ids, times, the app, the tool, whether
it failed and how long it took. The request line is recognised and skipped. **`input` and
`result.content` are never read**: `app_call_fields` is the one function that reads an APP_LOG
line, and it names every field it touches (`poller.py` beside it says why a
call is a row).

Every line names its `principal`: a line of another workspace or organization than the one
read is skipped (`of_principal`), never stored as this tenant's.
"""

import hashlib
import math
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

import orjson

from telemetry.event_kinds import EventKind, EventSource
from telemetry.ingest.rows import GPT_PREFIX, TelemetryRow

# TelemetryEvent's Source and EventType values, from the one Django-free spelling both use.
SOURCE_COMPLIANCE_LOGS = EventSource.COMPLIANCE_LOGS.value
INVOKED = EventKind.INVOKED.value
APP_CALL = EventKind.APP_CALL.value

# A line longer than this is reported malformed, never held whole (assumed bound: the largest
# real line seen is a few hundred KB of message content, which Claresia does not keep).
MAX_LINE_BYTES = 1024 * 1024

# gpt id → (skill id, Skill pk or None) for the tenant's GPTs; None for a known GPT not ours.
GptSkills = Mapping[str, tuple[str, int | None] | None]


# One row type for every source: the audit-event normalizer is as pure as this one.
LogRow = TelemetryRow


class LineSkipped(StrEnum):
    """Why a line makes no row; counted, never an error."""

    NO_GPT = "not a conversation with a GPT"
    NOT_CLARESIA = "a GPT that is not one of the tenant's"
    UNKNOWN_GPT = "a GPT id not in the inventory"
    OTHER_AUTHOR = "neither a user nor an assistant message"
    OTHER_TYPE = "not a line of the type being read"
    OTHER_APP = "a call to an app that is not the tenant's Claresia app"
    APP_REQUEST = "the request line of an app call (its response line is the row)"


class MalformedLine(ValueError):
    """The line cannot be read (not JSON, not an object, no id or time): the message says why
    (and never quotes the line, which may hold message content)."""


class AssistantModel(NamedTuple):
    """An assistant message of a Claresia conversation: the model that answered."""

    conversation_id: str
    model: str


def _text(value: Any, limit: int = 128) -> str:
    if type(value) is not str:
        if value is None:
            return ""
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit]


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def parse_line(line: bytes) -> dict:
    """One JSON Lines line → its object, or MalformedLine."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise MalformedLine("not valid JSON") from None
    if not isinstance(event, dict):
        raise MalformedLine("not a JSON object")
    return event


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise MalformedLine("no timestamp")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedLine("a timestamp that is not ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
        raise MalformedLine("a timestamp no calendar holds in UTC") from None


def of_principal(event: dict, principals: Collection[str]) -> bool:
    """Whether the line's `principal.id` is one of `principals` (the tenant's workspace and
    organization ids, lower-cased): every line names it (chatgpt-admin-api.md → Compliance Logs
    Platform), and a line that names another, or none, is not the tenant's to store."""
    principal = event.get("principal")
    principal_id = principal.get("id") if isinstance(principal, dict) else None
    if not isinstance(principal_id, str):
        return False
    return principal_id in principals or principal_id.lower() in principals


def _who_and_when(event: dict) -> dict:
    """What every kept line's raw starts with: its ids, type, time, principal and actor."""
    actor = _dict(event.get("actor"))
    principal = _dict(event.get("principal"))
    return {
        "event_id": _text(event.get("event_id")),
        "type": _text(event.get("type"), 32),
        "timestamp": _text(event.get("timestamp"), 40),
        "principal": {"id": _text(principal.get("id")), "type": _text(principal.get("type"))},
        "actor": {
            "type": _text(actor.get("type"), 40),
            "user_id": _text(actor.get("user_id")),
            "user_email": _text(actor.get("user_email"), 254),
        },
    }


def _safe_raw(event: dict, log_file: str, line_no: int) -> str:
    """The line's ids, author type, model and times only: never `message.content` or any
    field the contract does not name."""
    conversation = _dict(event.get("conversation"))
    message = _dict(event.get("message"))
    author = _dict(message.get("author"))
    raw = {
        **_who_and_when(event),
        "conversation": {
            "id": _text(conversation.get("id")),
            "gpt_id": _text(conversation.get("gpt_id")),
            "project_id": _text(conversation.get("project_id")),
        },
        "message": {
            "id": _text(message.get("id")),
            "author": {
                "type": _text(author.get("type"), 32),
                "model": _text(author.get("model"), 64),
                "client_type": _text(author.get("client_type"), 32),
            },
        },
        "log_file": {"id": _text(log_file), "line": line_no},
    }
    return orjson.dumps(raw).decode()


def normalize_log_event(
    event: dict,
    *,
    tenant_slug: str,
    gpts: GptSkills,
    log_file: str,
    line_no: int,
) -> LogRow | AssistantModel | LineSkipped:
    """One parsed `CONVERSATION_MESSAGE` line → a row (a user message), the model of an answer
    (an assistant message), or why it is skipped. Raises MalformedLine when a line of one of the
    tenant's GPTs lacks its id or time."""
    if event.get("type", "CONVERSATION_MESSAGE") != "CONVERSATION_MESSAGE":
        return LineSkipped.OTHER_TYPE
    conversation = _dict(event.get("conversation"))
    gpt_id = conversation.get("gpt_id")
    if not isinstance(gpt_id, str) or not gpt_id:
        return LineSkipped.NO_GPT
    if gpt_id not in gpts:
        return LineSkipped.UNKNOWN_GPT
    skill = gpts[gpt_id]
    if skill is None:
        return LineSkipped.NOT_CLARESIA
    message = _dict(event.get("message"))
    author = _dict(message.get("author"))
    author_type = author.get("type")
    conversation_id = _text(conversation.get("id"))
    if author_type == "assistant":
        return AssistantModel(conversation_id, _text(author.get("model"), 64))
    if author_type != "user":
        return LineSkipped.OTHER_AUTHOR
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedLine("no event_id")
    occurred_at = parse_time(event.get("timestamp"))
    skill_ref, skill_pk = skill
    actor = _dict(event.get("actor"))
    return LogRow(
        skill_id=skill_pk,
        skill_ref=skill_ref,
        skill_unknown=skill_pk is None,
        source=SOURCE_COMPLIANCE_LOGS,
        source_event_id=_text(event_id),
        event_type=INVOKED,
        occurred_at=occurred_at,
        actor_user_id=_text(actor.get("user_id")),
        actor_email=_text(actor.get("user_email"), 254),
        gpt_id=_text(gpt_id),
        gpt_name=f"{GPT_PREFIX}{tenant_slug}-{skill_ref}"[:128],
        conversation_id=conversation_id,
        model=_text(author.get("model"), 64),
        input_tokens=None,
        output_tokens=None,
        cost_usd=None,
        latency_ms=None,
        error_code="",
        error_message="",
        raw=_safe_raw(event, log_file, line_no),
        dropped_fields="",
    )


def with_models(rows: list[LogRow], models: Mapping[str, str]) -> list[LogRow]:
    """The rows, each given the model its conversation's assistant answered with (when the row
    has none)."""
    return [
        row._replace(model=models[row.conversation_id])
        if not row.model and row.conversation_id in models
        else row
        for row in rows
    ]


# ---- CONVERSATION_MESSAGE: plugin skill uses (`message.author.skills_used`) ---------------------

UNMAPPED = "unmapped"  # TelemetryEvent.EventType.UNMAPPED
# Skill ids one assistant message may name before the rest are counted as dropped (assumed bound:
# a message uses a handful of skills).
MAX_SKILLS_PER_MESSAGE = 32
# skills_used id → (skill id, Skill pk) for the tenant's ids already mapped; absent: not yet.
PluginSkills = Mapping[str, tuple[str, int]]


def _skill_use_event_id(event_id: str, skill_used: str) -> str:
    """The idempotency key of one skill's use in one message: the line's `event_id` and the
    skill id (a message may use several skills, each its own row). Cut to the column's 128
    characters by a digest, so two long ids never collide on a shared prefix."""
    key = f"{event_id}/{skill_used}"
    if len(key) <= 128:
        return key
    return f"{event_id[:40]}/sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _safe_skill_raw(event: dict, skill_used: str, log_file: str, line_no: int) -> str:
    """Ids, times, the author's type and model and the skill id only: never `message.content`
    or `conversation.title`."""
    conversation = _dict(event.get("conversation"))
    message = _dict(event.get("message"))
    author = _dict(message.get("author"))
    raw = {
        **_who_and_when(event),
        "conversation": {"id": _text(conversation.get("id"))},
        "message": {
            "id": _text(message.get("id")),
            "author": {
                "type": _text(author.get("type"), 32),
                "model": _text(author.get("model"), 64),
                "skills_used": [skill_used],
            },
        },
        "log_file": {"id": _text(log_file), "line": line_no},
    }
    return orjson.dumps(raw).decode()


def skill_use_rows(
    event: dict, *, plugin_skills: PluginSkills, log_file: str, line_no: int
) -> list[LogRow]:
    """One parsed `CONVERSATION_MESSAGE` line → one row per id in its assistant message's
    `skills_used` (chatgpt-admin-api.md → CONVERSATION_MESSAGE): an invocation of the skill the
    id is mapped to, or, for an id not yet mapped, a row of type `unmapped` that is resolved
    when the mapping is learned or set (plugin_skills.py beside it). No row for a user
    message or a message that used no skill. Raises MalformedLine when a skill was used and the
    line lacks its id or time."""
    if event.get("type", "CONVERSATION_MESSAGE") != "CONVERSATION_MESSAGE":
        return []
    message = _dict(event.get("message"))
    author = _dict(message.get("author"))
    if author.get("type") != "assistant":
        return []
    used = author.get("skills_used")
    if not isinstance(used, list) or not used:
        return []
    skill_ids = list(
        dict.fromkeys(_text(s) for s in used[:MAX_SKILLS_PER_MESSAGE] if isinstance(s, str) and s)
    )
    if not skill_ids:
        return []
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedLine("no event_id")
    occurred_at = parse_time(event.get("timestamp"))
    actor = _dict(event.get("actor"))
    conversation_id = _text(_dict(event.get("conversation")).get("id"))
    model = _text(author.get("model"), 64)
    rows = []
    for skill_used in skill_ids:
        mapped = plugin_skills.get(skill_used)
        rows.append(
            LogRow(
                skill_id=mapped[1] if mapped else None,
                skill_ref=mapped[0] if mapped else skill_used[:64],
                skill_unknown=mapped is None,
                source=SOURCE_COMPLIANCE_LOGS,
                source_event_id=_skill_use_event_id(_text(event_id), skill_used),
                event_type=INVOKED if mapped else UNMAPPED,
                occurred_at=occurred_at,
                actor_user_id=_text(actor.get("user_id")),
                actor_email=_text(actor.get("user_email"), 254),
                gpt_id="",
                gpt_name="",
                conversation_id=conversation_id,
                model=model,
                input_tokens=None,
                output_tokens=None,
                cost_usd=None,
                latency_ms=None,
                error_code="",
                error_message="",
                raw=_safe_skill_raw(event, skill_used, log_file, line_no),
                dropped_fields="",
                plugin_skill_id=skill_used,
            )
        )
    return rows


# ---- APP_LOG: calls to an MCP app ---------------------------------------------------------------

APP_TYPE_MCP = "MCP"  # chatgpt-admin-api.md → APP_LOG: `app_type` of an Apps SDK / MCP app
TOOL_ERROR = "tool_error"  # error_code of a call whose result said `isError` (MCP spec: tools)
TOOL_ERROR_MESSAGE = "the app's tool answered isError: true"
MAX_LATENCY_MS = 2**31 - 1  # the latency column is a PostgreSQL integer


class AppIdentity(NamedTuple):
    """How the tenant's Claresia app is known in `APP_LOG` lines: its `app_id` once known (the
    admin's `asdk_app_…`, or learned from a line), else its configured names (lower-cased)
    with `app_type` `MCP`. No line carries the app's URL."""

    app_id: str
    names: frozenset[str]


class AppCall(NamedTuple):
    """The fields of an `APP_LOG` line Claresia reads, and no others."""

    app_id: str
    app_name: str
    app_type: str
    log_type: str
    conversation_id: str
    tool_name: str
    is_error: bool
    latency_ms: int | None
    latency_dropped: bool


def _latency(value: Any) -> tuple[int | None, bool]:
    """Milliseconds as stored, and whether a present value was dropped (not a finite,
    non-negative number that fits the column)."""
    if value is None:
        return None, False
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, True
    if isinstance(value, float) and not math.isfinite(value):
        return None, True
    if not 0 <= value <= MAX_LATENCY_MS:
        return None, True
    return round(value), False


def _str(value: Any, limit: int = 128) -> str:
    return _text(value, limit) if isinstance(value, str) else ""


def app_call_fields(event: dict) -> AppCall:
    """Where an `APP_LOG` line names the app, the call and its outcome (chatgpt-admin-api.md →
    APP_LOG, verified from samples): flat `app_id`, `app_name`, `app_type`, `conversation_id`,
    `log_type`; on the response line `output[0].response` → `action_name` (the tool),
    `result.isError`, `internal.external_call_time_ms`. `input` and `result.content` are never
    touched. The one function to correct."""
    response: dict = {}
    output = event.get("output")
    if isinstance(output, list) and output:
        response = _dict(_dict(output[0]).get("response"))
    result = _dict(response.get("result"))
    latency, dropped = _latency(_dict(response.get("internal")).get("external_call_time_ms"))
    return AppCall(
        app_id=_str(event.get("app_id")),
        app_name=_str(event.get("app_name")),
        app_type=_str(event.get("app_type"), 32),
        log_type=_str(event.get("log_type"), 16),
        conversation_id=_str(event.get("conversation_id")),
        tool_name=_str(response.get("action_name"), 64),
        is_error=result.get("isError") is True,
        latency_ms=latency,
        latency_dropped=dropped,
    )


def is_our_app(call: AppCall, ours: AppIdentity) -> bool:
    """The tenant's Claresia app: its id once known (a renamed app is still ours, another app
    given the same name is not); until then a name configured for it, as an MCP app."""
    if ours.app_id:
        return call.app_id == ours.app_id
    return call.app_type.upper() == APP_TYPE_MCP and call.app_name.lower() in ours.names


def _safe_app_raw(event: dict, call: AppCall, log_file: str, line_no: int) -> str:
    """The line's ids, times, app, tool, outcome and latency only: never `input` (the call's
    arguments and the user's location) or `result.content`."""
    raw = {
        **_who_and_when(event),
        "log_type": call.log_type,
        "conversation": {"id": call.conversation_id},
        "app": {"id": call.app_id, "name": call.app_name, "type": call.app_type},
        "tool": {"name": call.tool_name},
        "result": {"isError": call.is_error},
        "external_call_time_ms": call.latency_ms,
        "log_file": {"id": _text(log_file), "line": line_no},
    }
    return orjson.dumps(raw).decode()


def normalize_app_event(
    event: dict, *, ours: AppIdentity, log_file: str, line_no: int
) -> LogRow | LineSkipped:
    """One parsed `APP_LOG` line → an `app_call` row (the response line of a call to the
    tenant's Claresia app), or why it is skipped (its request line, another app). Raises
    MalformedLine when such a response line lacks its id or time."""
    if event.get("type", "APP_LOG") != "APP_LOG":
        return LineSkipped.OTHER_TYPE
    call = app_call_fields(event)
    if not is_our_app(call, ours):
        return LineSkipped.OTHER_APP
    if call.log_type != "response":
        return LineSkipped.APP_REQUEST
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedLine("no event_id")
    occurred_at = parse_time(event.get("timestamp"))
    actor = _dict(event.get("actor"))
    return LogRow(
        skill_id=None,
        # Which skill recorded is in the call's arguments, which Claresia does not read: the
        # hub record the call made names it.
        skill_ref="",
        skill_unknown=False,
        source=SOURCE_COMPLIANCE_LOGS,
        source_event_id=_text(event_id),
        event_type=APP_CALL,
        occurred_at=occurred_at,
        actor_user_id=_text(actor.get("user_id")),
        actor_email=_text(actor.get("user_email"), 254),
        gpt_id="",
        gpt_name=(call.app_name or call.app_id)[:128],
        conversation_id=call.conversation_id,
        model="",
        input_tokens=None,
        output_tokens=None,
        cost_usd=None,
        latency_ms=call.latency_ms,
        error_code=TOOL_ERROR if call.is_error else "",
        error_message=TOOL_ERROR_MESSAGE if call.is_error else "",
        raw=_safe_app_raw(event, call, log_file, line_no),
        dropped_fields="latency_ms" if call.latency_dropped else "",
    )
