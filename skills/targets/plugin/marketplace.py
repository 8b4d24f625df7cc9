"""Skill IR(s) + tenant → the tenant's git plugin marketplace (`chatgpt-admin-api.md`, "Plugins,
the successor"): the repository a workspace admin imports once and ChatGPT syncs.

Pure: no database, no git, no clock; the same inputs give the same files. The plugin folder is
the plugin export's own (`skills/targets/plugin/build.py`), so the repository and the downloaded
ZIP never
differ. Claresia owns the paths `owned_paths` names; anything else in the repository (a file
someone pushed by hand, another plugin) is theirs and is kept. Skills are compared by git blob
ids, so "changed" means what git sees: a hand edit inside a skill folder is a change too.
"""

import hashlib
import json
from dataclasses import dataclass, field

from skills.targets.common import TenantContext, canonical_json
from skills.targets.plugin.build import AgentSkill, mcp_server_url, plugin_folder, plugin_name

MARKETPLACE_PATH = ".agents/plugins/marketplace.json"
README_PATH = "README.md"
# The contract's policy values: offered to the workspace, signed in when installed.
INSTALLATION_POLICY = "AVAILABLE"
AUTHENTICATION_POLICY = "ON_INSTALL"
CATEGORY = "Productivity"
# A marketplace.json someone else wrote is read to keep their entries, under this bound.
MARKETPLACE_MAX_BYTES = 256 * 1024
# The date of a first commit of skills that carry no change time (2025-01-01T00:00:00Z).
FIRST_COMMIT_EPOCH = 1735689600

ADMIN_README = """\
# Claresia plugin marketplace — {tenant}

Claresia writes this repository: one ChatGPT plugin, `{plugin}`, with the tenant's skills
({count}) under `plugins/{plugin}/skills/`. Each push is one commit listing the skills added,
changed and removed. Files outside `{marketplace}`, `README.md` and `plugins/{plugin}/` are yours:
Claresia keeps them on every publish.

## One-time steps for the ChatGPT workspace admin
1. **Add the Claresia app.** In ChatGPT's workspace settings for apps, add a custom app (an MCP
   server) with the URL `{mcp_url}` and OAuth authentication. ChatGPT registers itself with
   Claresia and opens Claresia's approval page.
2. **Claresia approves it.** A tenant admin of `{tenant}` in Claresia logs in on that page. It
   shows who asks and where the approval code goes (ChatGPT's callback on `chatgpt.com`; a
   warning otherwise), when the client registered, the tenant it will write to and what it may
   do: write hub records and read back their footer. They press **Approve** (or **Deny**). After
   that, each member of the workspace connects with no Claresia login.
3. **Import this marketplace.** ChatGPT → Admin → Plugins → Add → **Import marketplace**, this
   repository's URL, then **Sync now** (ChatGPT also syncs daily, so later publishes arrive by
   themselves).
4. **Enable the app for the plugin.** Syncing does not grant access to a plugin's apps: open the
   plugin `{plugin}`, set its installation policy, and enable its required app — the Claresia app
   of step 1 — for the roles that should use the skills. A plugin that requires an app is
   available only to roles with that app enabled.
5. Optional: send Claresia the app's id (`asdk_app_…`, as ChatGPT shows it for the app). Claresia
   records it as the connector's *ChatGPT app id*, and the plugin then names the app in
   `.app.json` as well as declaring its server in `.mcp.json`.

## Who may use the skills
A plugin cannot carry archetype groups (who may use which skill). Assign the plugin to roles in
ChatGPT → Workspace settings → Plugins.

## Recording to the hub
Every skill records its output with the `emit_hub_record` tool of the Claresia app, the MCP
server at `{mcp_url}` (Streamable HTTP, OAuth 2.1), and ends with the footer it returns. The
plugin declares that server in `plugins/{plugin}/.mcp.json`{app_reference}.

## Connections: where they are seen and revoked
In Claresia, Admin → Telemetry → **MCP clients** lists each ChatGPT connection of `{tenant}`:
its name and redirect host, when it registered, who approved it, its last use and live tokens.
*Revoke their tokens* cuts the next call (a tenant admin must approve again); *Disconnect*
removes the connection (ChatGPT must register and be approved again).
"""


@dataclass(frozen=True)
class SkillChanges:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        """`added: a, b` etc., one line per non-empty kind (the command's and page's words)."""
        kinds = (("added", self.added), ("changed", self.changed), ("removed", self.removed))
        return [f"{kind}: {', '.join(ids)}" for kind, ids in kinds if ids]

    def as_dict(self) -> dict:
        return {
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
        }


@dataclass(frozen=True)
class Marketplace:
    files: dict[str, bytes]  # path in the repository → bytes (Claresia's files only)
    skill_digests: dict[str, str] = field(default_factory=dict)  # skill id → digest


def plugin_root(tenant: TenantContext) -> str:
    return f"plugins/{plugin_name(tenant)}"


def owned_paths(tenant: TenantContext) -> tuple[str, ...]:
    """What Claresia rewrites on every publish; a path ending in `/` is a whole folder."""
    return (MARKETPLACE_PATH, README_PATH, f"{plugin_root(tenant)}/")


def is_owned(path: str, tenant: TenantContext) -> bool:
    return any(
        path.startswith(owned) if owned.endswith("/") else path == owned
        for owned in owned_paths(tenant)
    )


def _their_plugins(existing: bytes | None, ours: str) -> list[dict]:
    """The other plugin entries of a marketplace.json someone edited by hand: kept, as their
    files are. Anything unreadable is Claresia's to rewrite."""
    if not existing or len(existing) > MARKETPLACE_MAX_BYTES:
        return []
    try:
        document = json.loads(existing)
    except (ValueError, UnicodeDecodeError):
        return []
    plugins = document.get("plugins") if isinstance(document, dict) else None
    if not isinstance(plugins, list):
        return []
    kept = [
        entry
        for entry in plugins
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"] != ours
    ]
    return sorted(kept, key=lambda entry: entry["name"])


def marketplace_name(tenant: TenantContext) -> str:
    """The marketplace's `name`: what the workspace's plugin inventory gives as a plugin's
    `marketplace_name` (chatgpt-admin-api.md → Plugins)."""
    return plugin_name(tenant)


def marketplace_json(tenant: TenantContext, *, existing: bytes | None = None) -> dict:
    """`.agents/plugins/marketplace.json` in the contract's shape, the tenant's plugin first."""
    name = plugin_name(tenant)
    return {
        "name": marketplace_name(tenant),
        "interface": {"displayName": f"Claresia · {tenant.slug}"},
        "plugins": [
            {
                "name": name,
                "source": {"source": "local", "path": f"./{plugin_root(tenant)}"},
                "policy": {
                    "installation": INSTALLATION_POLICY,
                    "authentication": AUTHENTICATION_POLICY,
                },
                "category": CATEGORY,
            },
            *_their_plugins(existing, name),
        ],
    }


def _json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def git_blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob: how a file here is compared with the remote's."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def skill_digests(blob_ids: dict[str, str], *, tenant: TenantContext) -> dict[str, str]:
    """{skill id: digest of its folder} from {repository path: git blob id}."""
    prefix = f"{plugin_root(tenant)}/skills/"
    folders: dict[str, dict[str, str]] = {}
    for path, blob in blob_ids.items():
        if path.startswith(prefix) and "/" in path[len(prefix) :]:
            skill_id, relative = path[len(prefix) :].split("/", 1)
            folders.setdefault(skill_id, {})[relative] = blob
    return {
        skill_id: hashlib.sha256(canonical_json(files)).hexdigest()
        for skill_id, files in sorted(folders.items())
    }


def marketplace(
    skills: list[AgentSkill],
    irs: dict[str, dict],
    *,
    tenant: TenantContext,
    existing_marketplace: bytes | None = None,
) -> Marketplace:
    """Claresia's files of the tenant's marketplace repository, by path."""
    root = plugin_root(tenant)
    skills = sorted(skills, key=lambda skill: skill.skill_id)
    files = {
        MARKETPLACE_PATH: _json_bytes(marketplace_json(tenant, existing=existing_marketplace)),
        README_PATH: ADMIN_README.format(
            tenant=tenant.slug,
            plugin=plugin_name(tenant),
            count=len(skills),
            marketplace=MARKETPLACE_PATH,
            mcp_url=mcp_server_url(tenant),
            app_reference=(
                f" and names the app `{tenant.app_id}` in `plugins/{plugin_name(tenant)}/.app.json`"
                if tenant.app_id
                else ""
            ),
        ).encode(),
    }
    for path, data in plugin_folder(skills, irs, tenant=tenant).items():
        files[f"{root}/{path}"] = data
    files = dict(sorted(files.items()))
    blobs = {path: git_blob_id(data) for path, data in files.items()}
    return Marketplace(files=files, skill_digests=skill_digests(blobs, tenant=tenant))


def plugin_version(files: dict[str, bytes], *, tenant: TenantContext) -> str:
    """The `version` of the plugin's manifest among a marketplace's files ("" when absent)."""
    manifest = files.get(f"{plugin_root(tenant)}/.codex-plugin/plugin.json")
    try:
        version = json.loads(manifest).get("version") if manifest else None
    except (ValueError, UnicodeDecodeError, AttributeError):
        return ""
    return version if isinstance(version, str) else ""


def skill_changes(before: dict[str, str], after: dict[str, str]) -> SkillChanges:
    """Skills added, changed and removed between two {skill id: digest} maps, sorted."""
    return SkillChanges(
        added=tuple(sorted(set(after) - set(before))),
        changed=tuple(sorted(k for k in set(after) & set(before) if after[k] != before[k])),
        removed=tuple(sorted(set(before) - set(after))),
    )


def commit_message(changes: SkillChanges, *, tenant: TenantContext) -> str:
    """The commit's message: a summary line, then the skills added, changed and removed."""
    if not changes.any:
        return f"Update {plugin_name(tenant)}: marketplace files only, no skill changed\n"
    counts = ", ".join(
        f"{len(ids)} {kind}"
        for kind, ids in (
            ("added", changes.added),
            ("changed", changes.changed),
            ("removed", changes.removed),
        )
        if ids
    )
    body = "\n".join(f"{line[0].upper()}{line[1:]}" for line in changes.lines())
    return f"Update {plugin_name(tenant)}: {counts}\n\n{body}\n"


def commit_epoch(parent_epoch: int | None, *, changed_at: int | None = None) -> int:
    """The new commit's author and committer date: when its newest skill changed (a git host
    shows the commit as made then, not as years old), and never before one second after its
    parent. Derived from the inputs, never the clock: the same skills on the same parent give
    the same commit id, so an interrupted push is completed by the same commit."""
    floor = FIRST_COMMIT_EPOCH if parent_epoch is None else parent_epoch + 1
    return max(floor, changed_at or 0)
