"""Every path of the real Compliance API Claresia calls, in one module
(`shared/contracts/chatgpt-admin-api.md`; host `CHATGPT_ADMIN_API_BASE`).

What the contract marks **assumed** sits in one function each, to be corrected in one place:
the GPT list's paging (`gpts_pages`), the field that carries a plugin list's next cursor
(`plugins_next_cursor`) and a plugin's fields (`workspace_plugin`). The seed's modelled calls
stay in `endpoints.py`.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import MalformedListError

CONVERSATION_MESSAGE = "CONVERSATION_MESSAGE"
APP_LOG = "APP_LOG"
# The types the organization path serves (chatgpt-admin-api.md → Credentials and errors,
# observed): it answers a workspace-scoped type such as CONVERSATION_MESSAGE with a 400.
ORGANIZATION_EVENT_TYPES = frozenset({APP_LOG, "APP_AUTH_LOG", "COSTS"})
LOGS_PAGE_LIMIT = 100
PLUGINS_PAGE_LIMIT = 100  # chatgpt-admin-api.md → Plugins: `limit` ≤ 100 (verified)


@dataclass(frozen=True)
class Principal:
    """Whom a Compliance API path is about: a ChatGPT workspace (a UUID) or an API Platform
    organization (`org-…`, logs only) (chatgpt-admin-api.md → Credentials and errors)."""

    kind: str  # "workspaces" | "organizations"
    id: str

    @classmethod
    def workspace(cls, workspace_id: str | uuid.UUID) -> "Principal":
        return cls("workspaces", str(workspace_id))

    @classmethod
    def organization(cls, organization_id: str) -> "Principal":
        return cls("organizations", organization_id)

    @property
    def prefix(self) -> str:
        return f"compliance/{self.kind}/{self.id}"

    def route(self, template: str) -> str:
        """The route a request is paced on: the API's limit is per workspace (or organization),
        method and route template (chatgpt-admin-api.md → Credentials and errors)."""
        return f"{self.prefix}/{template}"

    def __str__(self) -> str:
        return f"{self.kind[:-1]} {self.id}"

    @property
    def is_workspace(self) -> bool:
        return self.kind == "workspaces"

    def serves(self, event_type: str) -> bool:
        """Whether this principal's path serves `event_type`: a workspace every type, an
        organization only the organization-scoped ones (conversations need the workspace)."""
        return self.is_workspace or event_type in ORGANIZATION_EVENT_TYPES


def _require_admin_host(client: OpenAIClient) -> None:
    if client.host != Host.CHATGPT_ADMIN:
        raise ValueError("Compliance API calls need a client for the ChatGPT admin host")


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, as the Logs Platform's `after` / `before` take it."""
    return moment.isoformat().replace("+00:00", "Z")


# ---- Compliance Logs Platform ----------------------------------------------------------------


def logs_page(
    client: OpenAIClient,
    principal: Principal,
    *,
    event_type: str,
    after: str,
    before: str | None = None,
    limit: int = LOGS_PAGE_LIMIT,
) -> dict:
    """One page of log files whose `end_time` is after `after` (exclusive), ascending."""
    _require_admin_host(client)
    params: list[tuple[str, str | int]] = [("event_type", event_type), ("after", after)]
    if before:
        params.append(("before", before))
    params.append(("limit", limit))
    page = client.request(
        "GET", f"{principal.prefix}/logs", params=params, route=principal.route("logs")
    )
    if not isinstance(page.get("data", []), list):
        raise MalformedListError("its `data` is not a list of log files")
    return page


def logs_files(
    client: OpenAIClient,
    principal: Principal,
    *,
    event_type: str,
    after: str,
    limit: int = LOGS_PAGE_LIMIT,
) -> Iterator[dict]:
    """Every log file after `after`, in `end_time` order, following `last_end_time` while
    `has_more`. Raises MalformedListError when a page's cursor does not advance."""
    cursor = after
    while True:
        page = logs_page(client, principal, event_type=event_type, after=cursor, limit=limit)
        yield from page.get("data") or ()
        last = page.get("last_end_time")
        if not page.get("has_more") or not last:
            return
        if not isinstance(last, str) or last <= cursor:
            raise MalformedListError("its `last_end_time` does not advance")
        cursor = last


def log_file_path(principal: Principal, log_file_id: str) -> str:
    return f"{principal.prefix}/logs/{log_file_id}"


def log_file_open(client: OpenAIClient, principal: Principal, log_file_id: str, **bounds):
    """A context manager giving one log file's decoded chunks through its 307, bounded in size
    and time (client.log_file)."""
    _require_admin_host(client)
    return client.log_file(
        log_file_path(principal, log_file_id), route=principal.route("logs/{id}"), **bounds
    )


def max_event_time(client: OpenAIClient, principal: Principal, *, event_type: str) -> str | None:
    """The newest event time the Logs Platform holds for `event_type` (freshness only: it
    "does not guarantee that all earlier events have arrived")."""
    _require_admin_host(client)
    body = client.request(
        "GET",
        f"{principal.prefix}/max_event_time",
        params=[("event_type", event_type)],
        route=principal.route("max_event_time"),
    )
    value = (body.get("max_event_time") or {}).get(event_type)
    return value if isinstance(value, str) else None


# ---- GPT inventory (workspace only) -----------------------------------------------------------


def gpts_page(
    client: OpenAIClient, workspace_id: str, *, limit: int = 100, after: str | None = None
) -> dict:
    _require_admin_host(client)
    params: list[tuple[str, str | int]] = [("limit", limit)]
    if after:
        params.append(("after", after))
    return client.request(
        "GET",
        f"{Principal.workspace(workspace_id).prefix}/gpts",
        params=params,
        route=Principal.workspace(workspace_id).route("gpts"),
    )


def gpts_pages(client: OpenAIClient, workspace_id: str) -> Iterator[dict]:
    """Every GPT of the workspace. Paging is **assumed** (`limit` + `after` = the last id,
    while `has_more`): this is the one function to correct."""
    after: str | None = None
    followed: set[str] = set()
    while True:
        page = gpts_page(client, workspace_id, after=after)
        data = page.get("data") or []
        if not isinstance(data, list):
            raise MalformedListError("its `data` is not a list of GPTs")
        yield from (gpt for gpt in data if isinstance(gpt, dict))
        last = page.get("last_id") or (data[-1].get("id") if data else None)
        if not page.get("has_more") or not last:
            return
        if last in followed:
            raise MalformedListError("it served the same page of GPTs twice")
        followed.add(last)
        after = last


# ---- plugin inventory (workspace only) --------------------------------------------------------


def plugins_page(
    client: OpenAIClient,
    workspace_id: str,
    *,
    limit: int = PLUGINS_PAGE_LIMIT,
    cursor: str | None = None,
) -> dict:
    """One page of the workspace's plugins (chatgpt-admin-api.md → Plugins: cursor paging with
    `limit` ≤ 100, `cursor` and `has_more`, verified)."""
    _require_admin_host(client)
    params: list[tuple[str, str | int]] = [("limit", min(max(limit, 1), PLUGINS_PAGE_LIMIT))]
    if cursor:
        params.append(("cursor", cursor))
    page = client.request(
        "GET",
        f"{Principal.workspace(workspace_id).prefix}/plugins",
        params=params,
        route=Principal.workspace(workspace_id).route("plugins"),
    )
    if not isinstance(page.get("data", []), list | None):
        raise MalformedListError("its `data` is not a list of plugins")
    return page


def plugins_next_cursor(page: dict) -> str | None:
    """The cursor of the next page: the response's `cursor` field, and only it
    (chatgpt-admin-api.md → Plugins: "the next value is the response's `cursor` field")."""
    value = page.get("cursor")
    return value if isinstance(value, str) and value else None


def plugins_pages(client: OpenAIClient, workspace_id: str) -> Iterator[dict]:
    """Every plugin object of the workspace, page after page while `has_more`. Raises
    MalformedListError when a cursor is served twice (it would be followed for ever)."""
    cursor: str | None = None
    followed: set[str] = set()
    while True:
        page = plugins_page(client, workspace_id, cursor=cursor)
        yield from (plugin for plugin in page.get("data") or () if isinstance(plugin, dict))
        if not page.get("has_more"):
            return
        cursor = plugins_next_cursor(page)
        if cursor is None or cursor in followed:
            raise MalformedListError("its plugin list's cursor does not advance")
        followed.add(cursor)


def plugin_get(client: OpenAIClient, workspace_id: str, plugin_id: str) -> dict:
    """`GET …/plugins/{plugin_id}` (chatgpt-admin-api.md → Plugins, verified)."""
    _require_admin_host(client)
    return client.request(
        "GET",
        f"{Principal.workspace(workspace_id).prefix}/plugins/{plugin_id}",
        route=Principal.workspace(workspace_id).route("plugins/{id}"),
    )


@dataclass(frozen=True)
class WorkspacePlugin:
    """A plugin of the workspace, in the fields the inventory publishes (chatgpt-admin-api.md →
    Plugins: no timestamps)."""

    id: str
    name: str
    marketplace_name: str
    display_name: str  # current_release.display_name
    version: str  # current_release.version: its `.codex-plugin/plugin.json` version as synced
    status: str
    installation_policy: str
    authentication_policy: str
    discoverability: str


def _text(value, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def workspace_plugin(plugin: dict) -> WorkspacePlugin:
    """One plugin object → WorkspacePlugin (chatgpt-admin-api.md → Plugins, fields verified):
    `id`, `name`, `marketplace_name`, `current_release {display_name, version}`, `status`,
    `installation_policy`, `authentication_policy`, `discoverability`. Anything else missing or
    of another type reads as empty."""
    release = plugin.get("current_release")
    release = release if isinstance(release, dict) else {}
    return WorkspacePlugin(
        id=_text(plugin.get("id")),
        name=_text(plugin.get("name")),
        marketplace_name=_text(plugin.get("marketplace_name")),
        display_name=_text(release.get("display_name")),
        version=_text(release.get("version"), 100),
        status=_text(plugin.get("status"), 40),
        installation_policy=_text(plugin.get("installation_policy"), 40),
        authentication_policy=_text(plugin.get("authentication_policy"), 40),
        discoverability=_text(plugin.get("discoverability"), 40),
    )


def same_plugin_version(workspace: str, pushed: str) -> bool:
    """Whether the workspace holds the pushed version. Whether `current_release.version` keeps
    SemVer build metadata (`+…`) is not known (chatgpt-admin-api.md → Plugins): when both carry
    it, it is compared; when one lacks it, the versions without it are (SemVer 2.0.0 §10)."""
    if workspace == pushed:
        return True
    if "+" in workspace and "+" in pushed:
        return False
    return workspace.split("+", 1)[0] == pushed.split("+", 1)[0]
