"""Has the tenant's plugin reached its ChatGPT workspace? Read through the real Compliance API's
plugin inventory (`GET /compliance/workspaces/{ws}/plugins` and `…/plugins/{plugin_id}`,
`shared/contracts/chatgpt-admin-api.md` → Plugins, the successor).

No API publishes a plugin: a workspace admin imports the marketplace once, and ChatGPT syncs
it daily or on *Sync now*. So the plugin `claresia-<tenant>` is, for the workspace:
- **in the workspace** (since it was added) when it is there and has what Claresia last pushed;
- **not yet imported** when it is not there: the one-time steps are still to do;
- **imported, waiting for sync** when it is there but older than the last commit Claresia
  pushed. "Older" compares the plugin's `current_release.version` with the manifest version of
  that commit (the version's build part changes with every skill change,
  `skills/targets/plugin/build.py`),
  with and without SemVer build metadata (`chatgpt_admin.same_plugin_version`); no timestamp is
  published to compare instead.

The plugin is the one whose `name` is the tenant's plugin name and whose `marketplace_name` is
the tenant's marketplace's (another marketplace may hold a plugin of the same name). The page
shows its status and its installation and authentication policies as the workspace has them.
"""

from dataclasses import dataclass
from enum import StrEnum

from claresia.models import Tenant
from connectors.openai import chatgpt_admin
from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import OpenAIError
from connectors.selectors import connector_workspace_id
from connectors.services import ConnectorUnavailable, Purpose, connector_client
from skills.models import PluginMarketplace
from skills.services.bundles import tenant_context
from skills.targets.plugin.build import plugin_name
from skills.targets.plugin.marketplace import marketplace_name


class ArrivalStatus(StrEnum):
    NO_WORKSPACE = "no workspace"
    IN_WORKSPACE = "in the workspace"
    NOT_IMPORTED = "not imported"
    WAITING_FOR_SYNC = "waiting for sync"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PluginArrival:
    status: ArrivalStatus
    plugin_name: str
    workspace_id: str = ""
    plugin_id: str = ""
    workspace_version: str = ""
    pushed_version: str = ""
    error: str = ""
    # As the workspace has them (chatgpt-admin-api.md → Plugins).
    display_name: str = ""
    plugin_status: str = ""
    installation_policy: str = ""
    authentication_policy: str = ""

    @property
    def summary(self) -> str:
        """One line in the page's words."""
        if self.status == ArrivalStatus.IN_WORKSPACE:
            return "in the workspace"
        if self.status == ArrivalStatus.NOT_IMPORTED:
            return "not yet imported — do the one-time steps"
        if self.status == ArrivalStatus.WAITING_FOR_SYNC:
            return "imported, waiting for sync"
        if self.status == ArrivalStatus.NO_WORKSPACE:
            return (
                "no ChatGPT workspace id on the connector: set it to confirm that the plugin "
                "reached the workspace"
            )
        return f"could not check: {self.error}"


def _waiting_for_sync(
    found: chatgpt_admin.WorkspacePlugin, state: PluginMarketplace | None
) -> bool:
    if state is None or not state.last_commit:
        return False  # nothing pushed yet: whatever is there is all there is
    if found.version and state.last_plugin_version:
        return not chatgpt_admin.same_plugin_version(found.version, state.last_plugin_version)
    return False  # the workspace says nothing that tells: it is there


def _find(
    client: OpenAIClient, workspace_id: str, name: str, marketplace: str
) -> chatgpt_admin.WorkspacePlugin | None:
    for raw in chatgpt_admin.plugins_pages(client, workspace_id):
        listed = chatgpt_admin.workspace_plugin(raw)
        if listed.name == name and listed.marketplace_name == marketplace and listed.id:
            # The detail is the plugin's own object: the list may carry a summary.
            return chatgpt_admin.workspace_plugin(
                chatgpt_admin.plugin_get(client, workspace_id, listed.id)
            )
    return None


def plugin_arrival_check(*, tenant: Tenant, client: OpenAIClient | None = None) -> PluginArrival:
    """Where the tenant's plugin stands in its ChatGPT workspace (module docstring). Never
    raises for an OpenAI or connector problem: the status is UNKNOWN and `error` says why, in
    the client's error mapping's words (401, 403, 404, 429 …)."""
    context = tenant_context(tenant)
    name, marketplace = plugin_name(context), marketplace_name(context)
    workspace_id = connector_workspace_id(tenant=tenant)
    if workspace_id is None:
        return PluginArrival(ArrivalStatus.NO_WORKSPACE, name)
    try:
        if client is not None:
            found = _find(client, workspace_id, name, marketplace)
        else:
            # A page asks while someone waits: one attempt and a short timeout, never a 120 s
            # Retry-After; the next view of the page asks again.
            with connector_client(
                tenant=tenant, host=Host.CHATGPT_ADMIN, purpose=Purpose.PAGE
            ) as opened:
                found = _find(opened, workspace_id, name, marketplace)
    except (OpenAIError, ConnectorUnavailable) as exc:
        return PluginArrival(
            ArrivalStatus.UNKNOWN, name, workspace_id=workspace_id, error=exc.user_message
        )
    if found is None:
        return PluginArrival(ArrivalStatus.NOT_IMPORTED, name, workspace_id=workspace_id)
    state = PluginMarketplace.objects.filter(tenant=tenant).first()
    status = (
        ArrivalStatus.WAITING_FOR_SYNC
        if _waiting_for_sync(found, state)
        else ArrivalStatus.IN_WORKSPACE
    )
    return PluginArrival(
        status,
        name,
        workspace_id=workspace_id,
        plugin_id=found.id,
        workspace_version=found.version,
        pushed_version=state.last_plugin_version if state else "",
        display_name=found.display_name,
        plugin_status=found.status,
        installation_policy=found.installation_policy,
        authentication_policy=found.authentication_policy,
    )
