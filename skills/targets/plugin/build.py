"""Skill IR + tenant → Agent Skills folder (`SKILL.md` + `references/`) and a ChatGPT plugin
folder (`.codex-plugin/plugin.json` + `skills/`): the second target of `skill-ir.md`.

Pure: no database, no HTTP, no clock; the same inputs give the same bytes. The mapping is the
contract's (name → id, title-cased name → name, description, body → instructions, references →
knowledge); what SKILL.md has no field for travels in the front matter's `metadata` (a map of
strings, which the Agent Skills format allows) so that an exported folder imports back to the
same IR. What the target cannot carry at all is listed per skill (`NOT_CARRIED`), never dropped
silently. The import side of the same mapping is `skills.ir.agent_skills.ir_from_skill_md`.
"""

import hashlib
import json
import re
from dataclasses import dataclass

import yaml

from skills.ir.agent_skills import (
    DEFAULT_VERSION,
    META_DESCRIPTION,
    META_IR_VERSION,
    META_KNOWLEDGE,
    META_MODEL,
    META_NAME,
    META_OWNER,
    META_PARAMETERS,
    META_VERSION,
    knowledge_location,
)
from skills.rules import HUB_APP_NAME, PLUGIN_HUB_CALL, claresia_rules
from skills.targets.custom_gpt.transpiler import BundleError, TenantContext, canonical_json

SKILL_FILENAME = "SKILL.md"
# Agent Skills rules for the front matter.
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NAME_LIMIT = 64
DESCRIPTION_LIMIT = 1024
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


def mcp_server_url(tenant: TenantContext) -> str:
    """The hub's MCP endpoint for this tenant: its hub base (a Mode C tenant's own)."""
    return f"{tenant.hub_base.rstrip('/')}/mcp"


def mcp_servers(tenant: TenantContext) -> dict:
    """`.mcp.json`: the hub as a remote MCP server over Streamable HTTP; ChatGPT runs its OAuth
    (README, "The hub as an MCP app")."""
    return {"mcpServers": {HUB_APP_NAME: {"type": "http", "url": mcp_server_url(tenant)}}}


def app_references(tenant: TenantContext) -> dict | None:
    """`.app.json`: the Claresia app as the workspace registered it (`asdk_app_…`), when the
    tenant gave its id. `.mcp.json` declares the server the plugin distributes; `.app.json`
    names the app registered in the workspace, which ChatGPT may need to route the skills'
    calls (chatgpt-admin-api.md, "Plugins, the successor")."""
    if not tenant.app_id:
        return None
    return {"apps": {HUB_APP_NAME: {"id": tenant.app_id}}}


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
        # The app the skills record through: the hub's MCP server (app_connection/server.py),
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
