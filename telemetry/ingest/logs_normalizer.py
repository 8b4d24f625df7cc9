"""Compliance Logs Platform line → telemetry row, as a pure function (ARCHITECTURE.md → Pure
core, thin edges): no database, no HTTP, no clock, no Django.

A `CONVERSATION_MESSAGE` line (`shared/contracts/chatgpt-admin-api.md` → Compliance Logs
Platform) carries `event_id`, `timestamp`, `actor`, `conversation {id, gpt_id, project_id}` and
`message {author {type, model, client_type}, …content}`. Each `user` message in a conversation
with one of the tenant's Claresia GPTs is one invocation; an `assistant` message gives the model.

**Message content is customer data Claresia never stores, logs or shows**: only the fields named
in `_safe_raw` are read, and the row's `raw` is built from them alone, never from the line.

An `APP_LOG` line records a call to an MCP app (chatgpt-admin-api.md: its fields are **not
verified**). `app_call_fields` is the one function that knows where the app and tool are; a call
to the tenant's Claresia app (the hub's MCP server) is one `app_call` row holding ids, times,
the app's name and the tool's name, never the call's arguments or result
(`telemetry/ingest/compliance_logs.py` says why it is a row).
"""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

import orjson

from telemetry.ingest.normalizer import TelemetryRow

# TelemetryEvent.Source.COMPLIANCE_LOGS and EventType.INVOKED, spelled here because this core
# imports no Django (tests/architecture checks both agree).
SOURCE_COMPLIANCE_LOGS = "compliance_logs"
INVOKED = "invoked"
APP_CALL = "app_call"  # TelemetryEvent.EventType.APP_CALL
GPT_PREFIX = "claresia-"
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
    return moment.astimezone(UTC)


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
    when the mapping is learned or set (telemetry/ingest/plugin_skills.py). No row for a user
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


class AppIdentity(NamedTuple):
    """How the tenant's Claresia app is known in an `APP_LOG` line: its names (the MCP server's
    name and title, the plugin's name), lower-cased, and its URL (the hub's `/mcp`)."""

    names: frozenset[str]
    url: str


class AppCall(NamedTuple):
    app_id: str
    app_name: str
    app_url: str
    tool_name: str
    conversation_id: str


def _first_text(*values: Any, limit: int = 128) -> str:
    for value in values:
        if isinstance(value, str) and value:
            return _text(value, limit)
    return ""


def app_call_fields(event: dict) -> AppCall:
    """Where an `APP_LOG` line names the app, the tool and the conversation. **Assumed**, read
    defensively (the contract does not verify these fields): the app under `app` (else
    `connector` or `mcp_server`) as `{id, name, url}` or flat `app_id` / `app_name`; the tool as
    `tool.name` (else `tool_name`, `action.name`); the conversation as `conversation.id` (else
    `conversation_id`). Arguments and results are never read. The one function to correct."""
    app = _dict(event.get("app")) or _dict(event.get("connector")) or _dict(event.get("mcp_server"))
    tool = event.get("tool")
    return AppCall(
        app_id=_first_text(app.get("id"), event.get("app_id")),
        app_name=_first_text(app.get("name"), event.get("app_name")),
        app_url=_first_text(app.get("url"), app.get("server_url"), limit=512),
        tool_name=_first_text(
            _dict(tool).get("name"),
            tool if isinstance(tool, str) else None,
            event.get("tool_name"),
            _dict(event.get("action")).get("name"),
            limit=64,
        ),
        conversation_id=_first_text(
            _dict(event.get("conversation")).get("id"), event.get("conversation_id")
        ),
    )


def _is_ours(call: AppCall, ours: AppIdentity) -> bool:
    if call.app_name and call.app_name.lower() in ours.names:
        return True
    return bool(call.app_url and ours.url and call.app_url.rstrip("/") == ours.url.rstrip("/"))


def _safe_app_raw(event: dict, call: AppCall, log_file: str, line_no: int) -> str:
    """The line's ids, times, app and tool names only: never arguments, results or content."""
    raw = {
        **_who_and_when(event),
        "conversation": {"id": call.conversation_id},
        "app": {"id": call.app_id, "name": call.app_name},
        "tool": {"name": call.tool_name},
        "log_file": {"id": _text(log_file), "line": line_no},
    }
    return orjson.dumps(raw).decode()


def normalize_app_event(
    event: dict, *, ours: AppIdentity, log_file: str, line_no: int
) -> LogRow | LineSkipped:
    """One parsed `APP_LOG` line → an `app_call` row (a call to the tenant's Claresia app), or
    why it is skipped. Raises MalformedLine when such a call lacks its id or time."""
    if event.get("type", "APP_LOG") != "APP_LOG":
        return LineSkipped.OTHER_TYPE
    call = app_call_fields(event)
    if not _is_ours(call, ours):
        return LineSkipped.OTHER_APP
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
        gpt_name=(call.app_name or call.app_id or call.app_url)[:128],
        conversation_id=call.conversation_id,
        model="",
        input_tokens=None,
        output_tokens=None,
        cost_usd=None,
        latency_ms=None,
        error_code="",
        error_message="",
        raw=_safe_app_raw(event, call, log_file, line_no),
        dropped_fields="",
    )
