"""Skill IR + tenant → Custom GPT bundle (`openai-enterprise-api.md` → GPTConfig). Pure: no
database, no HTTP, no clock; the same inputs give a byte-identical bundle and SHA-256.

The bundle is everything a publish or an export needs except the OpenAI file ids, which only
exist once the knowledge files are uploaded.
"""

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from skills.rules import GPT_HUB_CALL, HUB_OPERATION_ID, claresia_rules

INSTRUCTIONS_LIMIT = 8000
GPT_NAME_LIMIT = 64
FILES_LIMIT = 20
FILE_SIZE_LIMIT = 512 * 1024 * 1024
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DESCRIPTION_LIMIT = 300
PARAMETER_DESCRIPTION_LIMIT = 700
# Until the hub API generates its schema, this file is the one definition (hub-records-api.md).
HUB_OPENAPI_PATH = Path(__file__).resolve().parent.parent / "telemetry/openapi/emit_hub_record.json"


class BundleError(Exception):
    """The skill cannot become a GPT as it is: every problem, each naming the skill."""

    def __init__(self, skill_id: str, problems: list[str]) -> None:
        self.skill_id = skill_id
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class TenantContext:
    """What the transpiler needs of a tenant: its slug, hub base, archetype → workspace group."""

    slug: str
    hub_base: str
    archetypes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KnowledgeRef:
    path: str
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True)
class Bundle:
    skill_id: str
    name: str
    config: dict  # GPTConfig without `file_ids`, metadata carrying the bundle hash
    knowledge: tuple[KnowledgeRef, ...]
    group_ids: tuple[str, ...]
    archetypes: tuple[tuple[str, str], ...]  # (archetype slug, workspace group id)
    sha256: str

    @property
    def action_schema(self) -> dict:
        return self.config["actions"][0]["openapi_schema"]


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@cache
def _hub_openapi_text(path: Path = HUB_OPENAPI_PATH) -> str:
    return path.read_text(encoding="utf-8")


def _refs(value) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for item in value.values():
            found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def _hub_operation(source: dict) -> tuple[str, str, dict]:
    for path, item in source.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == HUB_OPERATION_ID:
                return path, method, operation
    raise ValueError(f"the hub OpenAPI document has no operation {HUB_OPERATION_ID!r}")


def hub_action_schema(hub_base: str, document: dict | None = None) -> dict:
    """The `emit_hub_record` operation cut from the hub's OpenAPI document, with only the
    schemas it references, and `servers` set to this tenant's hub base (Mode C honoured)."""
    source = document if document is not None else json.loads(_hub_openapi_text())
    path, method, operation = _hub_operation(source)
    components = source.get("components", {})
    all_schemas = components.get("schemas", {})
    wanted, pending = set(), _refs(operation)
    while pending:
        name = pending.pop()
        if name in wanted or name not in all_schemas:
            continue
        wanted.add(name)
        pending |= _refs(all_schemas[name])
    cut_components: dict = {"schemas": {name: all_schemas[name] for name in sorted(wanted)}}
    cut_components["securitySchemes"] = components.get("securitySchemes") or {
        "bearer": {"type": "http", "scheme": "bearer"}
    }
    return copy.deepcopy(
        {
            "openapi": source.get("openapi", "3.1.0"),
            "info": source.get("info", {"title": "Claresia hub", "version": "1"}),
            "servers": [{"url": hub_base.rstrip("/")}],
            "paths": {path: {method: operation}},
            "components": cut_components,
            "security": source.get("security") or [{"bearer": []}],
        }
    )


def gpt_instructions(ir: dict) -> str:
    """The skill's prompt, then Claresia's rules: the input form, the hub record, the footer."""
    return ir["instructions"].strip() + "\n\n" + claresia_rules(ir, hub_call=GPT_HUB_CALL)


def _limit_problems(ir: dict, name: str, instructions: str, action: dict, knowledge) -> list[str]:
    skill = ir["id"]
    problems = []
    if len(name) > GPT_NAME_LIMIT:
        problems.append(
            f"{skill}: GPT name {name!r} is {len(name)} characters, "
            f"{len(name) - GPT_NAME_LIMIT} over the {GPT_NAME_LIMIT} limit"
        )
    if len(instructions) > INSTRUCTIONS_LIMIT:
        problems.append(
            f"{skill}: instructions are {len(instructions):,} characters with Claresia's rules, "
            f"{len(instructions) - INSTRUCTIONS_LIMIT:,} over the {INSTRUCTIONS_LIMIT:,} limit"
        )
    for index, tool in enumerate(ir.get("tools") or []):
        if not FUNCTION_NAME.match(tool["name"]) or tool["name"].startswith("claresia_"):
            problems.append(
                f"{skill}: tools[{index}].name {tool['name']!r} is not a valid function name "
                "(letters, digits, _ and -, 1–64, not claresia_…)"
            )
        if len(tool.get("description", "")) > DESCRIPTION_LIMIT:
            over = len(tool["description"]) - DESCRIPTION_LIMIT
            problems.append(
                f"{skill}: tools[{index}].description is {over} over the {DESCRIPTION_LIMIT} limit"
            )
    for index, parameter in enumerate(ir.get("parameters") or []):
        if len(parameter.get("description", "")) > PARAMETER_DESCRIPTION_LIMIT:
            over = len(parameter["description"]) - PARAMETER_DESCRIPTION_LIMIT
            problems.append(
                f"{skill}: parameters[{index}].description is {over} over the "
                f"{PARAMETER_DESCRIPTION_LIMIT} limit"
            )
    for item in action["paths"].values():
        for operation in item.values():
            description = operation.get("description", "")
            if len(description) > DESCRIPTION_LIMIT:
                problems.append(
                    f"{skill}: the {HUB_OPERATION_ID} action description is "
                    f"{len(description) - DESCRIPTION_LIMIT} over the {DESCRIPTION_LIMIT} limit"
                )
    if len(knowledge) > FILES_LIMIT:
        problems.append(
            f"{skill}: {len(knowledge)} knowledge files, {len(knowledge) - FILES_LIMIT} over the "
            f"{FILES_LIMIT} limit"
        )
    for ref in knowledge:
        if ref.size > FILE_SIZE_LIMIT:
            problems.append(
                f"{skill}: knowledge file {ref.path} is {ref.size:,} bytes, "
                f"{ref.size - FILE_SIZE_LIMIT:,} over the 512 MB limit"
            )
    return problems


def skill_bundle(
    ir: dict,
    *,
    tenant: TenantContext,
    knowledge: list[KnowledgeRef] | tuple[KnowledgeRef, ...] = (),
    hub_openapi: dict | None = None,
) -> Bundle:
    """The Custom GPT bundle of a validated IR for `tenant`; BundleError lists what blocks it."""
    name = f"claresia-{tenant.slug}-{ir['id']}"
    by_path = {ref.path: ref for ref in knowledge}
    refs = tuple(
        by_path[item["path"]] for item in ir.get("knowledge") or [] if item["path"] in by_path
    )
    missing = [item["path"] for item in ir.get("knowledge") or [] if item["path"] not in by_path]
    problems = [f"{ir['id']}: knowledge file {path} is missing" for path in missing]
    archetypes = []
    for slug in ir.get("archetypes") or []:
        if slug not in tenant.archetypes:
            known = ", ".join(sorted(tenant.archetypes)) or "none"
            problems.append(
                f"{ir['id']}: archetype group {slug!r} does not exist for tenant "
                f"{tenant.slug!r} (known: {known})"
            )
        elif not tenant.archetypes[slug]:
            problems.append(
                f"{ir['id']}: archetype group {slug!r} has no ChatGPT workspace group id: "
                "set it on the archetype group"
            )
        else:
            archetypes.append((slug, tenant.archetypes[slug]))
    instructions = gpt_instructions(ir)
    action = hub_action_schema(tenant.hub_base, hub_openapi)
    problems += _limit_problems(ir, name, instructions, action, refs)
    if problems:
        raise BundleError(ir["id"], problems)
    config = {
        "name": name,
        "description": ir["description"],
        "instructions": instructions,
        "conversation_starters": list(ir.get("conversation_starters") or []),
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": tool["parameters"],
                },
            }
            for tool in ir.get("tools") or []
        ],
        "actions": [
            {"openapi_schema": action, "auth": {"type": "api_key", "authorization_type": "bearer"}}
        ],
        "metadata": {"claresia_tenant": tenant.slug, "claresia_skill": ir["id"]},
    }
    group_ids = tuple(sorted({group for _, group in archetypes}))
    digest = hashlib.sha256(
        canonical_json(
            {
                "config": config,
                "knowledge": [[r.path, r.sha256, r.size, r.media_type] for r in refs],
                "sharing": list(group_ids),
            }
        )
    ).hexdigest()
    config["metadata"]["claresia_bundle_sha256"] = digest
    return Bundle(
        skill_id=ir["id"],
        name=name,
        config=config,
        knowledge=refs,
        group_ids=group_ids,
        archetypes=tuple(archetypes),
        sha256=digest,
    )
