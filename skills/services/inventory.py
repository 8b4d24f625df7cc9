"""The workspace's GPT inventory on the real Compliance API (`GET /compliance/workspaces/{ws}/gpts`,
`shared/contracts/chatgpt-admin-api.md` → GPT inventory): which GPT is which skill.

A GPT is a skill's when the name in its latest config is `claresia-{tenant_slug}-{skill_id}`
(the name the export gives it; a person builds it by hand in ChatGPT). The telemetry from the
Logs Platform maps `conversation.gpt_id` to a skill through `gpt_skill_map`.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from claresia.models import Tenant
from connectors.openai import chatgpt_admin
from connectors.openai.client import Host, OpenAIClient
from connectors.selectors import connector_workspace_id
from connectors.services import ConnectorUnavailable, connector_client
from skills.selectors import skill_pks_by_id

GPT_PREFIX = "claresia-"


@dataclass(frozen=True)
class InventoryGPT:
    """One GPT of the workspace, read from the fields the contract lists."""

    id: str
    name: str
    description: str
    owner_email: str
    visibility: str
    config_changed_at: datetime | None
    action_domains: tuple[str, ...]
    config: dict = field(default_factory=dict, compare=False)


def _latest_config(gpt: dict) -> dict:
    configs = (gpt.get("latest_config") or {}).get("data") or []
    configs = [c for c in configs if isinstance(c, dict)]
    if not configs:
        return {}
    return max(configs, key=lambda c: c.get("created_at") or 0)


def _moment(seconds) -> datetime | None:
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, ValueError, OSError):
            return None
    return None


def inventory_gpt(gpt: dict) -> InventoryGPT:
    """One GPT object of the list → InventoryGPT (any key may be missing). Pure."""
    config = _latest_config(gpt)
    tools = (config.get("tools") or {}).get("data") or []
    domains = tuple(
        str(tool.get("action_domain") or "")
        for tool in tools
        if isinstance(tool, dict) and tool.get("type") == "custom_action"
    )
    return InventoryGPT(
        id=str(gpt.get("id") or ""),
        name=str(config.get("name") or ""),
        description=str(config.get("description") or ""),
        owner_email=str(gpt.get("owner_email") or ""),
        visibility=str((gpt.get("sharing") or {}).get("visibility") or ""),
        config_changed_at=_moment(config.get("created_at")),
        action_domains=domains,
        config=config,
    )


def gpt_inventory_read(
    *, tenant: Tenant, client: OpenAIClient | None = None, workspace_id: str | None = None
) -> list[InventoryGPT]:
    """Every GPT of the tenant's workspace (`workspace_id`: the tenant's, when the caller knows
    it already). Raises ConnectorUnavailable without a workspace id or connector, OpenAIError
    when the Compliance API refuses."""
    workspace_id = workspace_id or connector_workspace_id(tenant=tenant)
    if workspace_id is None:
        raise ConnectorUnavailable(
            f"tenant {tenant.slug} has no ChatGPT workspace id: set it on the connector to read "
            "the workspace's GPTs"
        )
    if client is not None:
        return [inventory_gpt(g) for g in chatgpt_admin.gpts_pages(client, workspace_id)]
    with connector_client(tenant=tenant, host=Host.CHATGPT_ADMIN) as opened:
        return [inventory_gpt(g) for g in chatgpt_admin.gpts_pages(opened, workspace_id)]


def skill_of_gpt_name(name: str, tenant_slug: str) -> str | None:
    """The skill id a GPT name gives for this tenant (`claresia-{tenant}-{skill}`), or None."""
    prefix = f"{GPT_PREFIX}{tenant_slug}-"
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


def gpts_by_skill(*, tenant: Tenant, gpts: list[InventoryGPT]) -> dict[str, InventoryGPT]:
    """skill id → the workspace's GPT of that skill (the latest-configured one if several)."""
    found: dict[str, InventoryGPT] = {}
    for gpt in gpts:
        skill_id = skill_of_gpt_name(gpt.name, tenant.slug)
        if skill_id is None:
            continue
        known = found.get(skill_id)
        if known is None or (gpt.config_changed_at or datetime.min.replace(tzinfo=UTC)) > (
            known.config_changed_at or datetime.min.replace(tzinfo=UTC)
        ):
            found[skill_id] = gpt
    return found


def gpt_skill_map(
    *, tenant: Tenant, gpts: list[InventoryGPT]
) -> dict[str, tuple[str, int | None] | None]:
    """gpt id → (skill id, Skill pk or None) for the tenant's Claresia GPTs, None for every other
    GPT of the workspace (known, and not ours)."""
    skills = skill_pks_by_id(tenant=tenant)
    mapping: dict[str, tuple[str, int | None] | None] = {}
    for gpt in gpts:
        skill_id = skill_of_gpt_name(gpt.name, tenant.slug)
        mapping[gpt.id] = None if skill_id is None else (skill_id[:64], skills.get(skill_id))
    return mapping
