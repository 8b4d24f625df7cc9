"""Skill IR + tenant → Custom GPT bundle (`openai-enterprise-api.md` → GPTConfig). Pure: no
database, no HTTP, no file, no clock; the same inputs give a byte-identical bundle and SHA-256.
The hub's action schema is an input too: `skills.hub_action` reads it, the services hand it in.

The bundle is everything a publish or an export needs except the OpenAI file ids, which only
exist once the knowledge files are uploaded.
"""

import copy
import hashlib
import re
from dataclasses import dataclass

from skills.rules import GPT_HUB_CALL, HUB_OPERATION_ID, claresia_rules
from skills.targets.common import BundleError, TenantContext, canonical_json

INSTRUCTIONS_LIMIT = 8000
GPT_NAME_LIMIT = 64
FILES_LIMIT = 20
FILE_SIZE_LIMIT = 512 * 1024 * 1024
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DESCRIPTION_LIMIT = 300
PARAMETER_DESCRIPTION_LIMIT = 700


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


def gpt_action(action_schema: dict, hub_base: str) -> dict:
    """The hub's action schema (`skills.hub_action`) with `servers` set to this tenant's hub
    base (Mode C honoured)."""
    action = copy.deepcopy(action_schema)
    action["servers"] = [{"url": hub_base.rstrip("/")}]
    return action


def action_problems(action: dict) -> list[str]:
    """What GPT Actions would refuse in an action schema: descriptions over their limits."""
    problems = []
    for item in action["paths"].values():
        for operation in item.values():
            description = operation.get("description", "")
            if len(description) > DESCRIPTION_LIMIT:
                problems.append(
                    f"the {HUB_OPERATION_ID} action description is "
                    f"{len(description) - DESCRIPTION_LIMIT} over the {DESCRIPTION_LIMIT} limit"
                )
            for parameter in operation.get("parameters", []):
                description = parameter.get("description", "")
                if len(description) > PARAMETER_DESCRIPTION_LIMIT:
                    problems.append(
                        f"the {HUB_OPERATION_ID} action parameter {parameter.get('name')!r} "
                        f"description is {len(description) - PARAMETER_DESCRIPTION_LIMIT} over "
                        f"the {PARAMETER_DESCRIPTION_LIMIT} limit"
                    )
    return problems


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
    problems += [f"{skill}: {problem}" for problem in action_problems(action)]
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
    action_schema: dict,
    knowledge: list[KnowledgeRef] | tuple[KnowledgeRef, ...] = (),
) -> Bundle:
    """The Custom GPT bundle of a validated IR for `tenant`; BundleError lists what blocks it.

    `action_schema` is the hub's GPT action (`skills.hub_action.hub_action_schema()`): handed
    in, so that this function reads no file."""
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
    action = gpt_action(action_schema, tenant.hub_base)
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
