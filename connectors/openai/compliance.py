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
from datetime import UTC, datetime

from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import MalformedListError

CONVERSATION_MESSAGE = "CONVERSATION_MESSAGE"
APP_LOG = "APP_LOG"
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


def log_file_open(client: OpenAIClient, principal: Principal, log_file_id: str):
    """A context manager streaming one log file through its 307 (client.log_file)."""
    _require_admin_host(client)
    return client.log_file(
        log_file_path(principal, log_file_id), route=principal.route("logs/{id}")
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
    """The cursor of the next page. **Assumed**: the contract verifies the `cursor` parameter
    and `has_more`, not the field that carries the next value; `next_cursor` is read, then
    `cursor`, then the last plugin's id. This is the one function to correct."""
    for key in ("next_cursor", "cursor", "last_id"):
        value = page.get(key)
        if isinstance(value, str) and value:
            return value
    data = page.get("data") or []
    last = data[-1] if data and isinstance(data[-1], dict) else {}
    value = last.get("id")
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
    """A plugin of the workspace, in the fields Claresia reads."""

    id: str
    name: str
    version: str  # the `version` of its `.codex-plugin/plugin.json` as last synced
    added_at: datetime | None  # when the workspace imported it
    synced_at: datetime | None  # when ChatGPT last synced it from the marketplace


def _moment(value) -> datetime | None:
    """Unix seconds (as the GPT inventory gives times) or ISO 8601; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, ValueError, OSError):
            return None
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _text(value, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def workspace_plugin(plugin: dict) -> WorkspacePlugin:
    """One plugin object → WorkspacePlugin. **Assumed** field names (the contract verifies the
    endpoints, not the object's shape): `id`, `name` (else `manifest.name`), `version` (else
    `manifest.version`: the `version` of its `.codex-plugin/plugin.json`), `created_at` for when
    it was added, `updated_at` (else `last_synced_at`) for the last sync; times in
    unix seconds or ISO 8601. This is the one function to correct."""
    manifest = plugin.get("manifest") if isinstance(plugin.get("manifest"), dict) else {}
    return WorkspacePlugin(
        id=_text(plugin.get("id")),
        name=_text(plugin.get("name")) or _text(manifest.get("name")),
        version=_text(plugin.get("version"), 100) or _text(manifest.get("version"), 100),
        added_at=_moment(plugin.get("created_at")),
        synced_at=_moment(plugin.get("updated_at")) or _moment(plugin.get("last_synced_at")),
    )
