"""The GPT action that records a skill's output in the hub (hub-records-api.md): cut once from
the hub's OpenAPI document, committed next to this module, read here, handed to the transpiler.

Why a committed file: drf-spectacular builds the hub's OpenAPI document from the hub's views in
`telemetry`, and `skills` sits below `telemetry` (ARCHITECTURE.md, Layout), so skills cannot
build it. The hub builds it and cuts it with `action_schema_cut` — the one cut —, and
`manage.py hub_action_schema` writes the result to `openapi/emit_hub_record.json`;
`tests/telemetry/hub/test_schema.py` fails when that file differs from the cut of what
`/hub/v1/schema` serves. The bundle services read the file with `hub_action_schema()`, the only
I/O here (once per process), and pass it to the pure
`skills.targets.custom_gpt.transpiler.skill_bundle`, which
only points its server at the tenant's hub base.
"""

import copy
import json
from functools import cache
from pathlib import Path

from skills.rules import HUB_APP_TITLE, HUB_OPERATION_ID
from skills.targets.custom_gpt.transpiler import action_problems

ACTION_SCHEMA_PATH = Path(__file__).resolve().parent / "openapi" / "emit_hub_record.json"
# The transpiler replaces it with the tenant's hub base.
SERVER_PLACEHOLDER = "https://api.claresia.com"


def _references(node) -> set[str]:
    found: set[str] = set()
    pending = [node]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[1])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def action_schema_cut(document: dict, *, server_url: str = SERVER_PLACEHOLDER) -> dict:
    """The `emit_hub_record` operation of the hub's OpenAPI `document` alone, with the schemas it
    references (transitively) and its security scheme: a document a GPT Action accepts. Raises
    ValueError when GPT Actions would refuse it (openai-enterprise-api.md limits)."""
    found = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("operationId") == HUB_OPERATION_ID
    ]
    if not found:
        raise LookupError(f"the hub schema has no {HUB_OPERATION_ID} operation")
    path, method, operation = found[0]
    operation = copy.deepcopy(operation)
    all_schemas = document.get("components", {}).get("schemas", {})
    wanted: set[str] = set()
    pending = _references(operation)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted.add(name)
        pending |= _references(all_schemas[name]) - wanted
    schemes = document.get("components", {}).get("securitySchemes", {})
    used_schemes = {name for entry in operation.get("security", []) for name in entry}
    cut = {
        "openapi": document["openapi"],
        "info": {
            "title": HUB_APP_TITLE,
            "version": document["info"]["version"],
            "description": "Records each skill's output and returns the footer to show.",
        },
        "servers": [{"url": server_url}],
        "paths": {path: {method: operation}},
        # Also at the top: readers that look for the document's default security find it.
        "security": operation.get("security", []),
        "components": {
            "schemas": copy.deepcopy({name: all_schemas[name] for name in sorted(wanted)}),
            "securitySchemes": {name: schemes[name] for name in sorted(used_schemes)},
        },
    }
    problems = action_problems(cut)
    if problems:
        raise ValueError("; ".join(problems))
    return cut


def action_schema_text(action_schema: dict) -> str:
    """The committed file's exact text for `action_schema`."""
    return json.dumps(action_schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@cache
def _committed() -> dict:
    return json.loads(ACTION_SCHEMA_PATH.read_text(encoding="utf-8"))


def hub_action_schema() -> dict:
    """The committed action schema (read once per process), a copy the caller may change."""
    return copy.deepcopy(_committed())
