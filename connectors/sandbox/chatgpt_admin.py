"""The sandbox's real Compliance API (`shared/contracts/chatgpt-admin-api.md`), beside the
seed's surface in `state.py`: the Compliance Logs Platform and the GPT inventory.

Served under `/v1/compliance/{workspaces|organizations}/{id}/…` with the real shapes: log
files listed in `end_time` order and paged by `last_end_time`; `GET …/logs/{id}` answers 307 to a
short-lived signed URL (`/_signed/logs/<token>`) that refuses any request carrying an
Authorization header, as a storage host would; `max_event_time`; the per-route rate limit
(100 requests per minute per principal, method and route, with `Retry-After`).

The organization path serves the organization-scoped types only (`APP_LOG`, `APP_AUTH_LOG`,
`COSTS`): any other, such as `CONVERSATION_MESSAGE`, is a 400 naming the workspace route. A
missing or bad parameter (`event_type`, `after`, `before`, `limit`) is a 422.

Behaviour by credential (real host only; the seed's rules in `state.py` do not apply here):

| credential | answer |
|---|---|
| no bearer key, a key not starting `sk-`, or containing `revoked` / `invalid` | 401 |
| key containing `noscope` | 401, `"code": null`, "Missing scopes: …" (as OpenAI's real 401) |
| key containing `forbidden` | 403: the key lacks the permission |
| workspace id starting `ffffffff` | 403: the key is not authorized for this workspace |
| org id containing `team` / `plus`, workspace id starting `00000000` | 404: no Admin API |

Controls (JSON bodies), under `/_sandbox/compliance/`:
- `POST logs` `{"principal": id, "event_type": "CONVERSATION_MESSAGE" | "APP_LOG" | …,
  "lines": [obj…] | "raw": "text" | "path": "/file.jsonl", "end_time": ISO,
  "max_event_time": ISO}`: add a file (`conversation_lines` and `app_log_lines` make lines)
  (a late file is one added with an `end_time` after files already read, holding old events;
  the same event may be put in two files). Answers `{"id", "end_time", "file_sha256"}`.
- `POST logs/<file_id>/corrupt` `{"times": 1}`: the next downloads serve bytes that do not
  match `file_sha256`.
- `POST rate_limit` `{"per_minute": 100, "window": 60}` (a shorter window lets a test see it pass).
- `GET stats`: requests answered and refused with a 429, per principal, method and route.
- `POST gpts/<workspace>` `{"gpts": [GPT…]}` adds or replaces GPTs (real shape);
  `PATCH` / `DELETE gpts/<workspace>/<gpt_id>` changes or removes one behind Claresia's back.
- `POST plugins/<workspace>` `{"plugins": [plugin…]}` (see `plugin_object`) adds or replaces the
  workspace's plugins, as a workspace admin importing a marketplace would; `PATCH` / `DELETE
  plugins/<workspace>/<plugin_id>` syncs (`{"version": …}` sets `current_release.version`;
  other fields are replaced) or removes one. The plugin list pages with an opaque `cursor`
  (`limit` 1..100, default 50, `has_more`, and the next value in the response's `cursor`).
"""

import base64
import collections
import hashlib
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PRINCIPAL_PATH = re.compile(
    r"^/v1/compliance/(?P<kind>workspaces|organizations)/(?P<id>[^/]+)/(?P<rest>.+)$"
)
SIGNED_PREFIX = "/_signed/logs/"
SIGNED_TTL = 300.0
EVENT_TYPES = {
    "AUTH_LOG",
    "AUDIT_LOG",
    "CONVERSATION_MESSAGE",
    "CODEX_LOG",
    "CODEX_TURN",
    "APP_LOG",
    "APP_AUTH_LOG",
    "COSTS",
}
# What the organization path serves (chatgpt-admin-api.md → Credentials and errors, observed):
# any other type is workspace-scoped and answered with a 400 naming the workspace route.
ORGANIZATION_EVENT_TYPES = {"APP_LOG", "APP_AUTH_LOG", "COSTS"}


class ComplianceError(Exception):
    """An error answer of the real host (body assumed OpenAI's shape; `code` null)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        self.headers = headers or {}


@dataclass
class LogFile:
    id: str
    principal: str
    event_type: str
    end_time: str
    sha256: str
    size: int
    max_event_time: str
    content: bytes | None = None
    path: str | None = None

    def listing(self) -> dict:
        return {
            "id": self.id,
            "event_type": self.event_type,
            "end_time": self.end_time,
            "file_name": f"{self.event_type.lower()}-{self.id}.jsonl",
            "file_size": self.size,
            "file_sha256": self.sha256,
        }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ComplianceState:
    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.files: dict[str, list[LogFile]] = {}  # principal → files by end_time
            self.by_id: dict[str, LogFile] = {}
            self.corrupt: dict[str, int] = {}
            self.signed: dict[str, tuple[str, float]] = {}
            self.gpts: dict[str, dict[str, dict]] = {}
            self.plugins: dict[str, dict[str, dict]] = {}
            self.per_minute = 100
            self.window = 60.0
            self.sent: dict[tuple, collections.deque] = collections.defaultdict(collections.deque)
            # (principal, method, route) → [answered, rate limited]: what a test or the fleet
            # benchmark reads back (`GET stats`).
            self.counts: dict[tuple, list[int]] = collections.defaultdict(lambda: [0, 0])

    # ---- credentials and the rate limit ------------------------------------------------------

    def authenticate(self, authorization: str, kind: str, principal: str) -> str:
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ComplianceError(401, "Missing bearer authentication in header")
        if not key.startswith("sk-") or "revoked" in key or "invalid" in key:
            raise ComplianceError(401, "Invalid authorization header")
        if "noscope" in key:
            raise ComplianceError(
                401,
                "You have insufficient permissions for this operation. "
                "Missing scopes: api.compliance.logs.read.",
            )
        if "forbidden" in key:
            raise ComplianceError(403, "This key does not have permission for this operation.")
        if kind == "workspaces":
            if principal.startswith("ffffffff"):
                raise ComplianceError(403, "This key is not authorized for this workspace.")
            if principal.startswith("00000000"):
                raise ComplianceError(404, "Workspace not found.")
        elif "team" in principal or "plus" in principal:
            raise ComplianceError(404, "Not found.")
        return key

    def throttle(self, key: str, principal: str, method: str, route: str) -> None:
        with self.lock:
            now = time.monotonic()
            sent = self.sent[(key, principal, method, route)]
            counts = self.counts[(principal, method, route)]
            while sent and sent[0] <= now - self.window:
                sent.popleft()
            if len(sent) >= self.per_minute:
                counts[1] += 1
                wait = max(1, math.ceil(sent[0] + self.window - now))
                raise ComplianceError(
                    429, "Rate limit exceeded for this route.", {"Retry-After": str(wait)}
                )
            counts[0] += 1
            sent.append(now)

    def stats(self) -> dict:
        with self.lock:
            routes = [
                {
                    "principal": principal,
                    "method": method,
                    "route": route,
                    "answered": answered,
                    "rate_limited": limited,
                }
                for (principal, method, route), (answered, limited) in sorted(self.counts.items())
            ]
        return {
            "answered": sum(r["answered"] for r in routes),
            "rate_limited": sum(r["rate_limited"] for r in routes),
            "routes": routes,
        }

    # ---- the API -------------------------------------------------------------------------------

    def api(self, method: str, path: str, query: dict, authorization: str, base: str):
        """(status, payload, headers) for a `/v1/compliance/…` request."""
        match = PRINCIPAL_PATH.match(path)
        if match is None or method != "GET":
            raise ComplianceError(404, f"Unknown route {method} {path}")
        kind, principal, rest = match["kind"], match["id"], match["rest"]
        key = self.authenticate(authorization, kind, principal)
        parts = rest.split("/")
        route = "/".join("{id}" if i % 2 else part for i, part in enumerate(parts))
        self.throttle(key, principal, method, route)
        if parts == ["logs"]:
            return 200, self.logs_list(kind, principal, query), {}
        if len(parts) == 2 and parts[0] == "logs":
            return 307, b"", {"Location": self.sign(principal, parts[1], base)}
        if parts == ["max_event_time"]:
            return 200, self.max_event_time(kind, principal, query), {}
        if kind == "workspaces" and parts[0] == "gpts":
            return 200, self.gpts_api(principal, parts[1:], query), {}
        if kind == "workspaces" and parts[0] == "plugins" and len(parts) <= 2:
            return 200, self.plugins_api(principal, parts[1:], query), {}
        raise ComplianceError(404, f"Unknown route {method} {path}")

    def logs_list(self, kind: str, principal: str, query: dict) -> dict:
        event_type = _event_type(kind, query)
        after = _one(query, "after")
        if not after:
            raise ComplianceError(422, "after is required (ISO 8601)")
        try:
            after_at = parse_iso(after)
            before = _one(query, "before")
            before_at = parse_iso(before) if before else None
            limit = int(_one(query, "limit") or 100)
        except ValueError:
            raise ComplianceError(
                422, "after / before must be ISO 8601; limit an integer"
            ) from None
        if not 1 <= limit <= 100:
            raise ComplianceError(422, "limit must be between 1 and 100")
        with self.lock:
            files = [
                f
                for f in self.files.get(principal, ())
                if f.event_type == event_type
                and parse_iso(f.end_time) > after_at
                and (before_at is None or parse_iso(f.end_time) < before_at)
            ]
        page = files[:limit]
        return {
            "data": [f.listing() for f in page],
            "has_more": len(files) > limit,
            "last_end_time": page[-1].end_time if page else None,
        }

    def max_event_time(self, kind: str, principal: str, query: dict) -> dict:
        event_type = _event_type(kind, query)
        with self.lock:
            times = [
                f.max_event_time
                for f in self.files.get(principal, ())
                if f.event_type == event_type
            ]
        return {"max_event_time": {event_type: max(times, key=parse_iso) if times else None}}

    def sign(self, principal: str, file_id: str, base: str) -> str:
        with self.lock:
            file = self.by_id.get(file_id)
            if file is None or file.principal != principal:
                raise ComplianceError(404, f"No log file {file_id!r}")
            token = secrets.token_urlsafe(16)
            self.signed[token] = (file_id, time.monotonic() + SIGNED_TTL)
        return f"{base}{SIGNED_PREFIX}{token}?X-Signature={secrets.token_hex(8)}"

    def signed_file(self, token: str, authorization: str | None) -> tuple[LogFile, bool]:
        """The file a signed URL serves, and whether this download is corrupted."""
        if authorization:
            # As a storage host does: a signed URL is its own credential.
            raise ComplianceError(
                400, "Only one auth mechanism allowed: the signed URL, not an Authorization header"
            )
        with self.lock:
            file_id, expires = self.signed.get(token, (None, 0.0))
            if file_id is None or expires < time.monotonic():
                raise ComplianceError(403, "Request has expired or the signature is invalid")
            corrupt = self.corrupt.get(file_id, 0) > 0
            if corrupt:
                self.corrupt[file_id] -= 1
            return self.by_id[file_id], corrupt

    def gpts_api(self, workspace: str, parts: list[str], query: dict) -> dict:
        with self.lock:
            gpts = sorted(self.gpts.get(workspace, {}).values(), key=lambda g: g["id"])
        if not parts:
            limit = int(_one(query, "limit") or 20)
            if not 1 <= limit <= 100:
                raise ComplianceError(400, "limit must be between 1 and 100")
            after = _one(query, "after")
            items = [g for g in gpts if after is None or g["id"] > after]
            page = items[:limit]
            return {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(items) > limit,
            }
        found = next((g for g in gpts if g["id"] == parts[0]), None)
        if found is None:
            raise ComplianceError(404, f"No GPT {parts[0]!r}")
        if len(parts) == 1:
            return found
        if parts[1:] == ["configs"]:
            return {"object": "list", "data": found["latest_config"]["data"], "has_more": False}
        raise ComplianceError(404, "Unknown GPT route")

    def plugins_api(self, workspace: str, parts: list[str], query: dict) -> dict:
        with self.lock:
            plugins = sorted(self.plugins.get(workspace, {}).values(), key=lambda p: p["id"])
        if not parts:
            # A bad parameter is a 422 (chatgpt-admin-api.md → Credentials and errors).
            try:
                limit = int(_one(query, "limit") or 50)
            except ValueError:
                raise ComplianceError(422, "limit must be an integer") from None
            if not 1 <= limit <= 100:
                raise ComplianceError(422, "limit must be between 1 and 100")
            cursor = _one(query, "cursor")
            after = _cursor_id(cursor) if cursor else None
            items = [p for p in plugins if after is None or p["id"] > after]
            page = items[:limit]
            has_more = len(items) > limit
            return {
                "object": "list",
                "data": page,
                "has_more": has_more,
                "cursor": _cursor_of(page[-1]["id"]) if has_more else None,
            }
        found = next((p for p in plugins if p["id"] == parts[0]), None)
        if found is None:
            raise ComplianceError(404, f"No plugin {parts[0]!r}")
        return {**found, "share_principals": []}

    # ---- controls ------------------------------------------------------------------------------

    def add_file(self, data: dict) -> dict:
        principal = str(data["principal"])
        event_type = data.get("event_type", "CONVERSATION_MESSAGE")
        if "path" in data:
            path = Path(data["path"])
            digest, size = _file_digest(path)
            content = None
        else:
            if "raw" in data:
                content = data["raw"].encode()
            else:
                content = b"".join(json.dumps(line).encode() + b"\n" for line in data["lines"])
            digest, size, path = hashlib.sha256(content).hexdigest(), len(content), None
        with self.lock:
            files = self.files.setdefault(principal, [])
            if data.get("end_time"):
                end_time = iso(parse_iso(data["end_time"]))
            else:
                last = parse_iso(files[-1].end_time) if files else datetime.now(UTC)
                end_time = iso(max(last + timedelta(seconds=1), datetime.now(UTC)))
            file = LogFile(
                id=data.get("id") or f"log_{next(self._ids):010d}",
                principal=principal,
                event_type=event_type,
                end_time=end_time,
                sha256=digest,
                size=size,
                max_event_time=data.get("max_event_time") or _max_timestamp(data) or end_time,
                content=content,
                path=str(path) if path else None,
            )
            files.append(file)
            files.sort(key=lambda f: parse_iso(f.end_time))
            self.by_id[file.id] = file
        return {"id": file.id, "end_time": file.end_time, "file_sha256": file.sha256}

    def control(self, method: str, rest: str, data: dict):
        if rest == "logs" and method == "POST":
            return self.add_file(data)
        if rest.startswith("logs/") and rest.endswith("/corrupt") and method == "POST":
            file_id = rest.removeprefix("logs/").removesuffix("/corrupt")
            with self.lock:
                if file_id not in self.by_id:
                    raise ComplianceError(404, f"No log file {file_id!r}")
                self.corrupt[file_id] = int(data.get("times", 1))
            return {"corrupt": file_id}
        if rest == "rate_limit" and method == "POST":
            with self.lock:
                self.per_minute = int(data["per_minute"])
                self.window = float(data.get("window", 60.0))
                self.sent.clear()
            return {"per_minute": self.per_minute, "window": self.window}
        if rest == "stats" and method == "GET":
            return self.stats()
        if rest.startswith("gpts/"):
            workspace, _, gpt_id = rest.removeprefix("gpts/").partition("/")
            with self.lock:
                gpts = self.gpts.setdefault(workspace, {})
                if not gpt_id and method == "POST":
                    for gpt in data["gpts"]:
                        gpts[gpt["id"]] = gpt
                    return {"gpts": len(gpts)}
                if not gpt_id and method == "GET":
                    return sorted(gpts.values(), key=lambda g: g["id"])
                if gpt_id in gpts and method == "PATCH":
                    gpts[gpt_id].update(data)
                    return gpts[gpt_id]
                if gpt_id in gpts and method == "DELETE":
                    return gpts.pop(gpt_id)
        if rest.startswith("plugins/"):
            workspace, _, plugin_id = rest.removeprefix("plugins/").partition("/")
            with self.lock:
                plugins = self.plugins.setdefault(workspace, {})
                if not plugin_id and method == "POST":
                    for plugin in data["plugins"]:
                        plugins[plugin["id"]] = plugin
                    return {"plugins": len(plugins)}
                if plugin_id in plugins and method == "PATCH":
                    changes = dict(data)
                    if "version" in changes:
                        release = plugins[plugin_id].setdefault("current_release", {})
                        release["version"] = changes.pop("version")
                    plugins[plugin_id].update(changes)
                    return plugins[plugin_id]
                if plugin_id in plugins and method == "DELETE":
                    return plugins.pop(plugin_id)
        raise ComplianceError(404, f"Unknown sandbox control {method} {rest}")


def _one(query: dict, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _event_type(kind: str, query: dict) -> str:
    """The request's `event_type`: a missing or unknown one is a 422 (a bad parameter,
    chatgpt-admin-api.md → Credentials and errors); a workspace-scoped type asked of the
    organization path is the 400 naming the workspace route."""
    event_type = _one(query, "event_type")
    if event_type not in EVENT_TYPES:
        raise ComplianceError(422, "event_type is required and must be a known event type")
    if kind == "organizations" and event_type not in ORGANIZATION_EVENT_TYPES:
        raise ComplianceError(
            400,
            f"{event_type} is a workspace-scoped event type: use "
            "/v1/compliance/workspaces/{workspace_id}/logs",
        )
    return event_type


def _cursor_of(plugin_id: str) -> str:
    """An opaque cursor, as a real one is: Claresia must send back what it was given."""
    return base64.urlsafe_b64encode(f"after:{plugin_id}".encode()).decode()


def _cursor_id(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ComplianceError(422, "cursor is not one this API gave") from None
    if not text.startswith("after:"):
        raise ComplianceError(422, "cursor is not one this API gave")
    return text.removeprefix("after:")


def _max_timestamp(data: dict) -> str | None:
    stamps = [
        line["timestamp"]
        for line in data.get("lines") or ()
        if isinstance(line, dict) and isinstance(line.get("timestamp"), str)
    ]
    return max(stamps, key=parse_iso) if stamps else None


def _file_digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def file_chunks(file: LogFile, corrupt: bool, chunk_size: int = 1 << 16):
    """The file's bytes in chunks; a corrupted download changes its first byte."""
    if file.content is not None:
        chunks = (file.content[i : i + chunk_size] for i in range(0, len(file.content), chunk_size))
    else:
        chunks = _read_chunks(Path(file.path), chunk_size)
    for index, chunk in enumerate(chunks):
        if corrupt and index == 0 and chunk:
            chunk = b" " + chunk[1:] if chunk[:1] != b" " else b"\n" + chunk[1:]
        yield chunk


def _read_chunks(path: Path, chunk_size: int):
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


# ---- the real shapes, generated (tests, the demo, the benchmark) -------------------------------


def gpt_object(
    *,
    gpt_id: str,
    name: str,
    description: str = "",
    owner_email: str = "owner@example.com",
    visibility: str = "workspace",
    action_domain: str | None = "api.claresia.com",
    created_at: int | None = None,
    config_created_at: int | None = None,
    extra_config: dict[str, Any] | None = None,
) -> dict:
    """One GPT of the inventory, in the shape chatgpt-admin-api.md → GPT inventory gives."""
    created = created_at if created_at is not None else int(time.time()) - 86400
    tools = [{"type": "code_interpreter"}]
    if action_domain is not None:
        tools.append(
            {"type": "custom_action", "action_domain": action_domain, "auth_type": "api_key"}
        )
    config = {
        "id": f"{gpt_id}-config-1",
        "name": name,
        "description": description,
        "created_at": config_created_at if config_created_at is not None else created,
        "version_author": {"id": "user-owner", "email": owner_email},
        "tools": {"data": tools},
        **(extra_config or {}),
    }
    return {
        "id": gpt_id,
        "created_at": created,
        "owner_id": "user-owner",
        "owner_email": owner_email,
        "builder_name": "Claresia export",
        "sharing": {"visibility": visibility},
        "latest_config": {"data": [config]},
    }


def plugin_object(
    *,
    plugin_id: str,
    name: str,
    version: str = "1.0.0",
    marketplace_name: str | None = None,
    display_name: str = "",
    status: str = "ACTIVE",
    installation_policy: str = "AVAILABLE",
    authentication_policy: str = "ON_INSTALL",
) -> dict:
    """One plugin of the workspace's inventory in the published shape (chatgpt-admin-api.md →
    Plugins): the version under `current_release`, no timestamps. A plugin imported from a
    marketplace of the same name unless `marketplace_name` is given."""
    return {
        "id": plugin_id,
        "name": name,
        "current_release": {"display_name": display_name or name, "version": version},
        "discoverability": "LISTED",
        "status": status,
        "installation_policy": installation_policy,
        "authentication_policy": authentication_policy,
        "marketplace_name": name if marketplace_name is None else marketplace_name,
        "creator_account_user_id": "user-owner",
    }


def plugin_skill_used_id(tenant_slug: str, skill_id: str) -> str:
    """The opaque id ChatGPT gives a plugin skill in `skills_used`: stable per tenant and skill,
    and naming neither (chatgpt-admin-api.md: the mapping is not published)."""
    digest = hashlib.sha256(f"{tenant_slug}/{skill_id}".encode()).hexdigest()
    return f"skill_{digest[:24]}"


def message_author(kind: str, *, model: str, skills_used: list[str] | None = None) -> dict:
    """A message's `author` in the real shape: a user message's client type, an assistant
    message's model, tools and skills used (chatgpt-admin-api.md → CONVERSATION_MESSAGE)."""
    if kind != "assistant":
        return {"type": kind, "client_type": "web"}
    return {"type": kind, "model": model, "tools_used": [], "skills_used": list(skills_used or [])}


def conversation_lines(
    *,
    principal: str,
    conversations: int,
    gpt_ids: list[str],
    start: datetime,
    seed: int = 0,
    messages_per_conversation: int = 2,
    content: str = "Please summarise the incident of last night.",
    step: timedelta = timedelta(seconds=1),
    skills_used: list[str] | None = None,
    title: str = "Last night's incident",
) -> list[dict]:
    """`CONVERSATION_MESSAGE` lines: per conversation, a user message then an assistant reply
    (the model), alternating, in the real line shape (chatgpt-admin-api.md). With `skills_used`
    (opaque ids, `plugin_skill_used_id`), conversation c's assistant replies used the skill
    `skills_used[c % len]`; `title` is customer data, as `content` is."""
    users = [("user-ana", "ana"), ("user-bo", "bo"), ("user-cy", "cy")]
    lines = []
    moment = start
    for c in range(conversations):
        gpt_id = gpt_ids[c % len(gpt_ids)] if gpt_ids else None
        user_id, user = users[c % len(users)]
        for m in range(messages_per_conversation):
            author = "user" if m % 2 == 0 else "assistant"
            lines.append(
                {
                    "event_id": f"evt-{seed:x}-{c:x}-{m:x}",
                    "type": "CONVERSATION_MESSAGE",
                    "timestamp": iso(moment),
                    "principal": {"id": principal, "type": "workspace"},
                    "actor": {
                        "type": "ACCOUNT_USER",
                        "user_id": user_id,
                        "user_email": f"{user}@example.com",
                    },
                    "conversation": {
                        "id": f"conv-{seed:x}-{c:x}",
                        "title": title,
                        "gpt_id": gpt_id,
                        "project_id": None,
                    },
                    "message": {
                        "id": f"msg-{seed:x}-{c:x}-{m:x}",
                        "author": message_author(
                            author,
                            model="gpt-4o",
                            skills_used=[skills_used[c % len(skills_used)]] if skills_used else [],
                        ),
                        "content": {"content_type": "text", "parts": [content]},
                    },
                }
            )
            moment += step
    return lines


def app_log_lines(
    *,
    principal: str,
    calls: int,
    start: datetime,
    seed: int = 0,
    app_id: str = "asdk_app_claresia0hub",
    app_name: str = "claresia-hub",
    app_type: str = "MCP",
    tool_name: str = "emit_hub_record",
    arguments: dict | None = None,
    content: str = "Claresia · incident-postmortem · $0.01 · 1.2 s · View record",
    failed: Collection[int] = (),
    latency_ms: int = 420,
    location: dict | None = None,
    step: timedelta = timedelta(seconds=1),
) -> list[dict]:
    """`APP_LOG` lines in the real shape (chatgpt-admin-api.md → APP_LOG): each tool call is a
    `request` line (flat app fields; `input` = the arguments plus `_meta` with the user's
    locale, session and location) then a `response` line (`output[].response`: `action_name`,
    `result {content, isError}`, `internal.external_call_time_ms`), with different event ids.
    The calls numbered in `failed` answer `isError: true`. The location and the result's content
    are in the lines as a real log carries them, so that tests prove Claresia never keeps them."""
    users = [("user-ana", "ana"), ("user-bo", "bo"), ("user-cy", "cy")]
    kind = "organization" if principal.startswith("org-") else "workspace"
    place = location or {"city": "Treviso", "latitude": 45.6669, "longitude": 12.243}
    lines = []
    moment = start
    for c in range(calls):
        user_id, user = users[c % len(users)]
        common = {
            "type": "APP_LOG",
            "principal": {"id": principal, "type": kind},
            "actor": {
                "type": "ACCOUNT_USER",
                "user_id": user_id,
                "user_email": f"{user}@example.com",
            },
            "app_id": app_id,
            "app_name": app_name,
            "app_type": app_type,
            "conversation_id": f"conv-{seed:x}-{c:x}",
        }
        request = {
            "event_id": f"app-{seed:x}-{c:x}-request",
            "timestamp": iso(moment),
            **common,
            "log_type": "request",
            "input": {
                **(
                    arguments
                    if arguments is not None
                    else {"skill_id": "incident-postmortem", "output": "The summary."}
                ),
                "_meta": {
                    "openai/locale": "it-IT",
                    "openai/session": f"sess-{seed:x}-{c:x}",
                    "openai/userLocation": {**place, "country": "IT", "timezone": "Europe/Rome"},
                },
            },
        }
        response = {
            "event_id": f"app-{seed:x}-{c:x}",
            "timestamp": iso(moment + timedelta(milliseconds=latency_ms)),
            **common,
            "log_type": "response",
            "output": [
                {
                    "response": {
                        "action_name": tool_name,
                        "connector_id": app_id,
                        "connector_name": app_name,
                        "is_sync": True,
                        "result": {
                            "content": [{"type": "text", "text": content}],
                            "isError": c in failed,
                        },
                        "internal": {"external_call_time_ms": latency_ms + c},
                    }
                }
            ],
        }
        lines += [request, response]
        moment += step
    return lines
