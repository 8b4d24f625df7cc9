"""The body of `emit_hub_record`: its bounds, and a fast check of well-formed bodies.

`EmitHubRecord` (the DRF serializer in serializers.py) is the contract: it documents the body in
the OpenAPI schema and words every error. Building and running it costs about a quarter of a hub
call's time (bench_hub), almost all of it spent on bodies that are fine. `accepted_values`
answers those in a few microseconds: it returns exactly what the serializer's `validated_data`
would be, or None whenever a body is not plainly valid — then the serializer decides and words
the errors. It never accepts a body the serializer would refuse
(tests/telemetry/hub/test_validation.py checks both on generated bodies)."""

import re

from telemetry.hub.models import HubRecord

MAX_BODY_CHARACTERS = 100_000  # the platform's own bound (hub-records-api.md)
MAX_TOKENS = 10_000_000
MAX_LATENCY_MS = 3_600_000
MAX_SKILL_ID = 48
MAX_RECORD_KEY = 200
MAX_MODEL = 64
MAX_ERROR_CODE = 64
UNSTORABLE = "Text must be valid Unicode without NUL characters."

_SKILL_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # claresia.models.SLUG_PATTERN, unanchored
# A failed run's reason: a short code the dashboard groups failures by, never free text.
ERROR_CODE_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
_ERROR_CODE = re.compile(ERROR_CODE_PATTERN)
_STATUSES = frozenset(HubRecord.Status.values)
_COMPLETED = HubRecord.Status.COMPLETED.value


def storable(text: str) -> bool:
    """PostgreSQL text and jsonb hold neither NUL nor lone surrogates (which JSON can carry)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_json(value) -> bool:
    """Every string in a JSON value (object keys included) is storable."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not storable(item):
            return False
    return True


def _plain_text(value, *, max_length: int) -> bool:
    # What a trimming, non-blank CharField keeps as it is.
    return (
        type(value) is str
        and 0 < len(value) <= max_length
        and value == value.strip()
        and storable(value)
    )


def _count(value, *, maximum: int) -> bool:
    return type(value) is int and 0 <= value <= maximum  # type(): no bool


def accepted_values(data: dict) -> dict | None:
    """EmitHubRecord's validated_data for a plainly valid body, else None (ask the serializer)."""
    skill_id = data.get("skill_id")
    if not (
        type(skill_id) is str and len(skill_id) <= MAX_SKILL_ID and _SKILL_ID.fullmatch(skill_id)
    ):
        return None
    status = data.get("status", _COMPLETED)
    output = data.get("output")
    if type(status) is not str or status not in _STATUSES or type(output) is not str:
        return None
    if not storable(output) or (status == _COMPLETED and not output.strip()):
        return None
    values = {"skill_id": skill_id, "status": status, "output": output}
    if "record_key" in data:
        if not _plain_text(data["record_key"], max_length=MAX_RECORD_KEY):
            return None
        values["record_key"] = data["record_key"]
    if "error_code" in data:
        code = data["error_code"]
        if not (type(code) is str and len(code) <= MAX_ERROR_CODE and _ERROR_CODE.match(code)):
            return None
        values["error_code"] = code
    if "model" in data:
        if not _plain_text(data["model"], max_length=MAX_MODEL):
            return None
        values["model"] = data["model"]
    if "inputs" in data:
        if type(data["inputs"]) is not dict or not storable_json(data["inputs"]):
            return None
        values["inputs"] = data["inputs"]
    if "usage" in data:
        usage = data["usage"]
        if not (
            type(usage) is dict
            and _count(usage.get("input_tokens"), maximum=MAX_TOKENS)
            and _count(usage.get("output_tokens"), maximum=MAX_TOKENS)
        ):
            return None
        values["usage"] = {
            "input_tokens": usage["input_tokens"],
            "output_tokens": usage["output_tokens"],
        }
    if "latency_ms" in data:
        if not _count(data["latency_ms"], maximum=MAX_LATENCY_MS):
            return None
        values["latency_ms"] = data["latency_ms"]
    return values
