"""Every path of the real Compliance API Claresia calls, in one module
(`shared/contracts/chatgpt-admin-api.md`; host `CHATGPT_ADMIN_API_BASE`).

What the contract marks **assumed** sits in one function each, to be corrected in one place:
the GPT list's paging (`gpts_pages`). The seed's modelled calls stay in `endpoints.py`.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import MalformedListError

CONVERSATION_MESSAGE = "CONVERSATION_MESSAGE"
APP_LOG = "APP_LOG"
LOGS_PAGE_LIMIT = 100


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
        "GET", f"{principal.prefix}/logs", params=params, route=f"{principal.kind}/logs"
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
        log_file_path(principal, log_file_id), route=f"{principal.kind}/logs/{{id}}"
    )


def max_event_time(client: OpenAIClient, principal: Principal, *, event_type: str) -> str | None:
    """The newest event time the Logs Platform holds for `event_type` (freshness only: it
    "does not guarantee that all earlier events have arrived")."""
    _require_admin_host(client)
    body = client.request(
        "GET",
        f"{principal.prefix}/max_event_time",
        params=[("event_type", event_type)],
        route=f"{principal.kind}/max_event_time",
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
        route="workspaces/gpts",
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
