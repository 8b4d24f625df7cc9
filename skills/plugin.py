"""Skill IR + tenant → Agent Skills folder (`SKILL.md` + `references/`) and a ChatGPT plugin
folder (`.codex-plugin/plugin.json` + `skills/`): the second target of `skill-ir.md`.

Pure: no database, no HTTP, no clock; the same inputs give the same bytes. The mapping is the
contract's (name → id, title-cased name → name, description, body → instructions, references →
knowledge); what SKILL.md has no field for travels in the front matter's `metadata` (a map of
strings, which the Agent Skills format allows) so that an exported folder imports back to the
same IR. What the target cannot carry at all is listed per skill (`NOT_CARRIED`), never dropped
silently. `ir_from_skill_md` is the import side of the same mapping.
"""

import hashlib
import json
import re
from dataclasses import dataclass

import yaml

from skills.ir.documents import DocumentError, InvalidSyntax, load_json
from skills.rules import PLUGIN_HUB_CALL, claresia_rules
from skills.transpiler import BundleError, TenantContext, canonical_json

SKILL_FILENAME = "SKILL.md"
KNOWLEDGE_DIRS = ("references", "assets")
DEFAULT_VERSION = "1.0.0"
# Agent Skills rules for the front matter.
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NAME_LIMIT = 64
DESCRIPTION_LIMIT = 1024
# Front matter `metadata` keys; values are strings (JSON for lists), as the format requires.
META_VERSION = "version"
META_IR_VERSION = "claresia-ir-version"
META_NAME = "claresia-name"
META_DESCRIPTION = "claresia-description"
META_PARAMETERS = "claresia-parameters"
META_KNOWLEDGE = "claresia-knowledge"
META_MODEL = "claresia-model"
META_OWNER = "claresia-owner"
# IR fields SKILL.md round-trips (front matter, metadata, body, files).
CARRIED_FIELDS = (
    "ir_version",
    "id",
    "name",
    "version",
    "description",
    "instructions",
    "parameters",
    "knowledge",
    "model",
    "owner",
)
# IR fields a plugin skill cannot carry, and what the tenant does instead (the export manifest).
NOT_CARRIED = {
    "tools": "function tools: a plugin carries tools as MCP servers, which this export does not "
    "generate; add an MCP server for them",
    "conversation_starters": "conversation starters: SKILL.md has no field for them",
    "archetypes": "archetype groups (the workspace ACL): a plugin carries no sharing; share it "
    "with these groups in ChatGPT",
}
HUB_ACTION_NOTE = (
    "the emit_hub_record HTTP action (OpenAPI + bearer auth): a plugin reaches the hub through "
    "an MCP server; SKILL.md still requires the call and the footer"
)
MODEL_NOTE = "model: kept in metadata for the round trip; a plugin does not pin the model"


@dataclass(frozen=True)
class AgentSkill:
    skill_id: str
    files: dict  # path inside the skill folder → bytes
    not_carried: tuple  # ({"field", "detail", "items"}, …) for the manifest
    sha256: str


def knowledge_location(path: str) -> str:
    """Where a knowledge file sits in the skill folder: under `references/` unless the IR
    already places it under `references/` or `assets/`."""
    return path if path.split("/", 1)[0] in KNOWLEDGE_DIRS else f"references/{path}"


def front_matter_description(description: str) -> str:
    """The description as the Agent Skills rules accept it: one line, no `<` or `>`."""
    text = " ".join(description.split())
    return text.replace("<", "‹").replace(">", "›")[:DESCRIPTION_LIMIT]


def skill_body(ir: dict) -> str:
    """The SKILL.md body: the skill's own instructions, then Claresia's rules."""
    return ir["instructions"] + "\n\n" + claresia_rules(ir, hub_call=PLUGIN_HUB_CALL)


def _metadata(ir: dict) -> dict[str, str]:
    metadata = {
        META_IR_VERSION: str(ir["ir_version"]),
        META_NAME: ir["name"],
        META_VERSION: ir["version"],
    }
    if front_matter_description(ir["description"]) != ir["description"]:
        metadata[META_DESCRIPTION] = ir["description"]
    if ir.get("parameters"):
        metadata[META_PARAMETERS] = json.dumps(ir["parameters"], ensure_ascii=False)
    if ir.get("knowledge"):
        metadata[META_KNOWLEDGE] = json.dumps(ir["knowledge"], ensure_ascii=False)
    if ir.get("model"):
        metadata[META_MODEL] = ir["model"]
    if ir.get("owner"):
        metadata[META_OWNER] = ir["owner"]
    return metadata


def skill_md(ir: dict) -> bytes:
    front = {
        "name": ir["id"],
        "description": front_matter_description(ir["description"]),
        "metadata": _metadata(ir),
    }
    return f"---\n{_yaml_front(front)}---\n{skill_body(ir)}".encode()


def _yaml_front(front: dict) -> str:
    """Readable YAML (accents kept as they are), unless PyYAML would not read it back the same:
    it writes some characters (e.g. U+0085, NEL) raw inside quotes and reads them back as line
    breaks. Then every non-ASCII character is escaped instead."""
    header = yaml.safe_dump(front, sort_keys=True, allow_unicode=True, width=float("inf"))
    if yaml.safe_load(header) == front:
        return header
    return yaml.safe_dump(front, sort_keys=True, allow_unicode=False, width=float("inf"))


def not_carried(ir: dict) -> tuple[dict, ...]:
    items = [{"field": "actions", "detail": HUB_ACTION_NOTE, "items": ["emit_hub_record"]}]
    for key, detail in NOT_CARRIED.items():
        values = ir.get(key) or []
        if values:
            names = [value["name"] if isinstance(value, dict) else value for value in values]
            items.append({"field": key, "detail": detail, "items": names})
    if ir.get("model"):
        items.append({"field": "model", "detail": MODEL_NOTE, "items": [ir["model"]]})
    return tuple(items)


def agent_skill(ir: dict, *, files: dict[str, bytes]) -> AgentSkill:
    """The Agent Skills folder of a validated IR; `files` are its knowledge files by IR path.
    BundleError lists what blocks it."""
    problems = []
    if not NAME_PATTERN.match(ir["id"]) or len(ir["id"]) > NAME_LIMIT:
        problems.append(f"{ir['id']}: not a valid Agent Skills name (a-z, 0-9, single hyphens)")
    entries = {SKILL_FILENAME: skill_md(ir)}
    for item in ir.get("knowledge") or []:
        location = knowledge_location(item["path"])
        if item["path"] not in files:
            problems.append(f"{ir['id']}: knowledge file {item['path']} is missing")
        elif location in entries:
            problems.append(f"{ir['id']}: two knowledge files would both be {location}")
        else:
            entries[location] = files[item["path"]]
    if problems:
        raise BundleError(ir["id"], problems)
    digest = hashlib.sha256(
        canonical_json({path: hashlib.sha256(data).hexdigest() for path, data in entries.items()})
    ).hexdigest()
    return AgentSkill(skill_id=ir["id"], files=entries, not_carried=not_carried(ir), sha256=digest)


PLUGIN_README = """\
# {name} — Claresia skills as a ChatGPT plugin

Version {version}. One Agent Skills folder per skill under `skills/` ({count}): `SKILL.md` (the
instructions and Claresia's rules) and its knowledge under `references/`.

## Recording to the hub
Every skill must record its output with the `emit_hub_record` tool of the Claresia hub app and
end with the footer it returns. The plugin declares the app in `.mcp.json`: the hub's MCP server
`{hub_base}/mcp` (Streamable HTTP, OAuth 2.1){app_reference}. A tenant admin of `{tenant}`
approves the connection once, when ChatGPT first connects; no hub token is in this export.

## Not carried
Function tools, conversation starters and archetype groups (sharing) have no place in a plugin
skill: the export's `manifest.json` lists them per skill.
"""


MCP_SERVER_NAME = "claresia-hub"


def mcp_server_url(tenant: TenantContext) -> str:
    """The hub's MCP endpoint for this tenant: its hub base (a Mode C tenant's own)."""
    return f"{tenant.hub_base.rstrip('/')}/mcp"


def mcp_servers(tenant: TenantContext) -> dict:
    """`.mcp.json`: the hub as a remote MCP server over Streamable HTTP; ChatGPT runs its OAuth
    (README, "The hub as an MCP app")."""
    return {"mcpServers": {MCP_SERVER_NAME: {"type": "http", "url": mcp_server_url(tenant)}}}


def app_references(tenant: TenantContext) -> dict | None:
    """`.app.json`: the Claresia app as the workspace registered it (`asdk_app_…`), when the
    tenant gave its id. `.mcp.json` declares the server the plugin distributes; `.app.json`
    names the app registered in the workspace, which ChatGPT may need to route the skills'
    calls (chatgpt-admin-api.md, "Plugins, the successor")."""
    if not tenant.app_id:
        return None
    return {"apps": {MCP_SERVER_NAME: {"id": tenant.app_id}}}


def plugin_name(tenant: TenantContext) -> str:
    return f"claresia-{tenant.slug}"


def plugin_json(skills: list[AgentSkill], irs: dict[str, dict], *, tenant: TenantContext) -> dict:
    """`.codex-plugin/plugin.json`; the version's build part changes whenever a skill does."""
    digest = hashlib.sha256(canonical_json(sorted(s.sha256 for s in skills))).hexdigest()
    names = ", ".join(irs[s.skill_id]["name"] for s in skills) or "none"
    return {
        "name": plugin_name(tenant),
        "version": f"{DEFAULT_VERSION}+sha.{digest[:12]}",
        "description": f"Claresia skills of {tenant.slug}: {names}."[:DESCRIPTION_LIMIT],
        "author": {"name": "Claresia"},
        "skills": "./skills/",
        # The app the skills record through: the hub's MCP server (telemetry/hub/mcp.py),
        # declared in the plugin root's .mcp.json as Codex plugins bundle MCP servers.
        "mcpServers": "./.mcp.json",
        **({"apps": "./.app.json"} if app_references(tenant) else {}),
        "interface": {
            "displayName": f"Claresia · {tenant.slug}",
            "shortDescription": f"{len(skills)} Claresia skill(s) that record to the hub",
            "longDescription": "\n".join(
                f"{irs[s.skill_id]['name']}: {irs[s.skill_id]['description']}" for s in skills
            ),
            "developerName": "Claresia",
            "category": "Productivity",
            "capabilities": ["Skills"],
        },
    }


def plugin_folder(
    skills: list[AgentSkill], irs: dict[str, dict], *, tenant: TenantContext
) -> dict[str, bytes]:
    """The plugin folder's files by path, the skills under `skills/<id>/`."""
    manifest = plugin_json(skills, irs, tenant=tenant)
    entries = {
        ".mcp.json": (
            json.dumps(mcp_servers(tenant), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        ).encode(),
        ".codex-plugin/plugin.json": (
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        ).encode(),
        "README.md": PLUGIN_README.format(
            name=manifest["name"],
            version=manifest["version"],
            count=len(skills),
            hub_base=tenant.hub_base.rstrip("/"),
            tenant=tenant.slug,
            app_reference=(
                f"; `.app.json` names it as the workspace registered it, `{tenant.app_id}`"
                if tenant.app_id
                else ""
            ),
        ).encode(),
    }
    apps = app_references(tenant)
    if apps is not None:
        entries[".app.json"] = (json.dumps(apps, indent=2, sort_keys=True) + "\n").encode()
    for skill in sorted(skills, key=lambda s: s.skill_id):
        for path, data in skill.files.items():
            entries[f"skills/{skill.skill_id}/{path}"] = data
    return entries


def _title(slug: str) -> str:
    return " ".join(word.capitalize() for word in re.split(r"[-_\s]+", slug) if word)


def _json_list(metadata: dict, key: str) -> list:
    """A metadata list written as JSON; [] when it is not one (a hand edit). A value over the
    bounds of a skill document raises DocumentError, naming the key."""
    text = metadata.get(key)
    if not isinstance(text, str):
        return []
    try:
        value = load_json(text)
    except InvalidSyntax:
        return []
    except DocumentError as exc:
        raise DocumentError(f"metadata.{key}: {exc}") from None
    return value if isinstance(value, list) else []


def ir_from_skill_md(front: dict, body: str, paths: list[str]) -> tuple[dict, dict[str, str]]:
    """The IR of a SKILL.md (front matter, body) and {IR knowledge path: path in the folder}.

    A folder Claresia exported comes back whole: its metadata restores what the front matter
    has no field for, and the rules section is cut from the body only when it is exactly the one
    this IR would get (otherwise the body, edited by hand, stays the instructions)."""
    slug = str(front.get("name") or "")
    raw = front.get("metadata")
    metadata = {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    document = {
        "ir_version": 1,
        "id": slug,
        "name": str(metadata.get(META_NAME) or _title(slug)[:60]),
        "version": str(front.get("version") or metadata.get(META_VERSION) or DEFAULT_VERSION),
        "description": str(metadata.get(META_DESCRIPTION) or front.get("description") or ""),
        "instructions": body.strip(),
    }
    for key, meta in ((META_MODEL, "model"), (META_OWNER, "owner")):
        if metadata.get(key):
            document[meta] = str(metadata[key])
    parameters = _json_list(metadata, META_PARAMETERS)
    if parameters:
        document["parameters"] = parameters
    locations: dict[str, str] = {}
    if META_KNOWLEDGE in metadata:
        document["knowledge"] = _json_list(metadata, META_KNOWLEDGE)
        for item in document["knowledge"]:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                locations[item["path"]] = knowledge_location(item["path"])
    else:
        document["knowledge"] = [
            {"path": path} for path in sorted(paths) if path.split("/", 1)[0] in KNOWLEDGE_DIRS
        ]
    if META_IR_VERSION in metadata:
        suffix = "\n\n" + claresia_rules(
            {**document, "parameters": parameters}, hub_call=PLUGIN_HUB_CALL
        )
        if body.endswith(suffix):
            document["instructions"] = body[: -len(suffix)]
    return document, locations
