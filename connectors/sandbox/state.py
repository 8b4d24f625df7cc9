"""The OpenAI sandbox's in-memory world: organizations, their audit logs, GPTs, files, groups,
and the faults a test or demo has asked for.

Behaviour is chosen by the credentials, so that a test or the demo picks it by the key it
stores (`README.md` → The OpenAI sandbox):

| credential | behaviour |
|---|---|
| key containing `compliance` (e.g. `sk-compliance-demo`) | a Compliance-scope admin key: accepted |
| any other `sk-…` key (e.g. `sk-admin-…`) | 401 `missing_scope` |
| key not starting `sk-`, or containing `revoked` / `invalid` | 401 `invalid_api_key` |
| org id containing `team` or `plus` | below Enterprise: 403 `compliance_api_disabled` |
| org id containing `nopublish` | 403 `gpt_publish_disabled` on GPT and file calls |

GPT objects carry `sharing` (`{"visibility": "private" | "groups", "group_ids": [...]}`) beside
the modelled GPTConfig fields: `openai-enterprise-api.md` models sharing only as a `PUT`, and
the sandbox exposes it on the GPT object so that drift detection
(skills/targets/custom_gpt/drift.py) can
compare it; when a real GPT object lacks it, drift says sharing was not compared. Tests change a
GPT behind Claresia's back with `PATCH /_sandbox/gpts/<org>/<gpt_id>` (any keys, including
`instructions`, `file_ids` and `sharing`) or delete it with `DELETE` (server.py).
"""

import bisect
import itertools
import json
import random
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.chatgpt_admin import ComplianceState

GPT_NAME_LIMIT = 64
INSTRUCTIONS_LIMIT = 8000
FILES_LIMIT = 20
FILE_SIZE_LIMIT = 512 * 1024 * 1024
FUNCTION_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class APIError(Exception):
    """An error answer in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        self.headers = headers or {}


@dataclass
class Fault:
    """An injected failure for requests whose path starts with `path` (and method matches)."""

    path: str = "/v1/"
    method: str = "*"
    status: int | None = 500  # None: only the delay, then the normal answer
    code: str | None = None
    retry_after: str | None = None
    body: str | None = None  # raw body instead of OpenAI's error JSON (truncated / non-JSON)
    delay: float = 0.0  # seconds to wait before answering (slow responses, timeouts)
    times: int | None = 1  # how many matching requests it hits; None = until cleared
    every: int = 1  # hit one request in `every` matching ones
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path) and self.method in ("*", method)


@dataclass
class Org:
    org_id: str
    # Audit logs kept sorted ascending by (effective_at, id); served newest first.
    keys: list[tuple[int, str]] = field(default_factory=list)
    events: list[tuple[str, bytes]] = field(default_factory=list)  # (type, serialized JSON)
    positions: dict[str, tuple[int, str]] = field(default_factory=dict)
    gpts: dict[str, dict] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)
    group_ids: set[str] | None = None  # None: every `grp_…` id exists


def _check_key(key: str) -> None:
    if not key.startswith("sk-") or "revoked" in key or "invalid" in key:
        raise APIError(
            401,
            "invalid_api_key",
            f"Incorrect API key provided: {key[:3]}***{key[-4:]}.",
        )
    if "compliance" not in key:
        raise APIError(
            401,
            "missing_scope",
            "You have insufficient permissions for this operation. "
            "Missing scopes: api.compliance.read.",
        )


class SandboxState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.orgs: dict[str, Org] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        self._ids = itertools.count(1)
        # The real Compliance API (chatgpt-admin-api.md), beside the seed's surface.
        self.compliance = ComplianceState(self.lock)

    # ---- plumbing -------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.orgs.clear()
            self.faults.clear()
            self.requests.clear()
            self.compliance.reset()

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):012x}"

    def org(self, org_id: str) -> Org:
        with self.lock:
            if org_id not in self.orgs:
                self.orgs[org_id] = Org(org_id=org_id)
            return self.orgs[org_id]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if (fault.seen - 1) % fault.every:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.requests.append((method, path, status))

    def authenticate(self, authorization: str, organization: str, *, publish: bool) -> Org:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise APIError(
                401,
                "invalid_api_key",
                "You didn't provide an API key.",
                type_="invalid_request_error",
            )
        _check_key(key.strip())
        if not organization.startswith("org-"):
            raise APIError(
                401,
                "mismatched_organization",
                "OpenAI-Organization header should match organization for API key",
            )
        if "team" in organization or "plus" in organization:
            raise APIError(
                403,
                "compliance_api_disabled",
                "The Compliance API requires the ChatGPT Enterprise tier.",
                type_="permission_error",
            )
        if publish and "nopublish" in organization:
            raise APIError(
                403,
                "gpt_publish_disabled",
                "Publishing GPTs through the API is not enabled for this organization.",
                type_="permission_error",
            )
        return self.org(organization)

    # ---- audit logs -----------------------------------------------------------------------

    def add_events(self, org_id: str, events: list[dict]) -> int:
        """Add audit events (possibly late: behind ones already served)."""
        org = self.org(org_id)
        with self.lock:
            bulk = len(events) > 64
            for event in events:
                event.setdefault("id", self.next_id("audit_log-"))
                key = (int(event["effective_at"]), str(event["id"]))
                if event["id"] in org.positions:
                    continue
                item = (str(event.get("type", "")), json.dumps(event).encode())
                org.positions[event["id"]] = key
                if bulk:
                    org.keys.append(key)
                    org.events.append(item)
                else:
                    at = bisect.bisect_left(org.keys, key)
                    org.keys.insert(at, key)
                    org.events.insert(at, item)
            if bulk:
                order = sorted(range(len(org.keys)), key=org.keys.__getitem__)
                org.keys = [org.keys[i] for i in order]
                org.events = [org.events[i] for i in order]
        return len(events)

    def audit_logs(self, org: Org, query: dict[str, list[str]]) -> bytes:
        types = set(query.get("event_types[]", []))
        for value in query.get("event_types", []):
            types.update(t for t in value.split(",") if t)
        limit = _int(query, "limit", 20)
        if not 1 <= limit <= 100:
            raise APIError(400, None, "limit must be between 1 and 100", param="limit")
        with self.lock:
            keys = org.keys
            lo, hi = 0, len(keys)
            for name, bound in (
                ("effective_at[gte]", "gte"),
                ("since", "gte"),
                ("effective_at[gt]", "gt"),
                ("effective_at[lte]", "lte"),
                ("effective_at[lt]", "lt"),
            ):
                if name not in query:
                    continue
                ts = _int(query, name, 0)
                if bound == "gte":
                    lo = max(lo, bisect.bisect_left(keys, (ts, "")))
                elif bound == "gt":
                    lo = max(lo, bisect.bisect_left(keys, (ts + 1, "")))
                elif bound == "lte":
                    hi = min(hi, bisect.bisect_left(keys, (ts + 1, "")))
                else:
                    hi = min(hi, bisect.bisect_left(keys, (ts, "")))
            after, before = _one(query, "after"), _one(query, "before")
            for cursor in (after, before):
                if cursor is not None and cursor not in org.positions:
                    raise APIError(400, None, f"No audit log with id {cursor!r}", param="after")
            picked: list[int] = []
            if before is not None:
                # The page just newer than `before`, still served newest first.
                index = bisect.bisect_right(keys, org.positions[before], lo, hi)
                while index < hi and len(picked) <= limit:
                    if not types or org.events[index][0] in types:
                        picked.append(index)
                    index += 1
                has_more = len(picked) > limit
                picked = list(reversed(picked[:limit]))
            else:
                if after is not None:
                    hi = min(hi, bisect.bisect_left(keys, org.positions[after], lo, hi))
                index = hi - 1
                while index >= lo and len(picked) <= limit:
                    if not types or org.events[index][0] in types:
                        picked.append(index)
                    index -= 1
                has_more = len(picked) > limit
                picked = picked[:limit]
            data = [org.events[i][1] for i in picked]
            first_id = keys[picked[0]][1] if picked else None
            last_id = keys[picked[-1]][1] if picked else None
        return b"".join(
            [
                b'{"object": "list", "data": [',
                b", ".join(data),
                b'], "first_id": ',
                json.dumps(first_id).encode(),
                b', "last_id": ',
                json.dumps(last_id).encode(),
                b', "has_more": ',
                b"true" if has_more else b"false",
                b"}",
            ]
        )

    # ---- files and GPTs (modelled) --------------------------------------------------------

    def file_create(self, org: Org, filename: str, content: bytes, purpose: str) -> dict:
        if purpose != "assistants":
            raise APIError(400, None, "purpose must be 'assistants'", param="purpose")
        if len(content) > FILE_SIZE_LIMIT:
            raise APIError(400, None, "file is larger than 512 MB", param="file")
        with self.lock:
            file = {
                "id": self.next_id("file-"),
                "object": "file",
                "bytes": len(content),
                "filename": filename,
                "purpose": purpose,
                "created_at": int(time.time()),
            }
            org.files[file["id"]] = file
        return file

    def gpts_list(self, org: Org, query: dict[str, list[str]]) -> dict:
        name = _one(query, "name")
        limit = _int(query, "limit", 20)
        if not 1 <= limit <= 100:
            raise APIError(400, None, "limit must be between 1 and 100", param="limit")
        after = _one(query, "after")
        with self.lock:
            items = sorted(org.gpts.values(), key=lambda g: g["id"])
        if name is not None:
            items = [g for g in items if g["name"] == name]
        if after is not None:
            items = [g for g in items if g["id"] > after]
        page = items[:limit]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }

    def gpt_get(self, org: Org, gpt_id: str) -> dict:
        with self.lock:
            if gpt_id not in org.gpts:
                raise APIError(404, "not_found", f"No GPT with id {gpt_id!r}", param="gpt_id")
            return org.gpts[gpt_id]

    def gpt_save(self, org: Org, config: Any, gpt_id: str | None = None) -> dict:
        config = _validate_gpt_config(config, org)
        now = int(time.time())
        with self.lock:
            taken = [g for g in org.gpts.values() if g["name"] == config["name"]]
            if gpt_id is None:
                if taken:
                    raise APIError(409, "gpt_name_taken", f"A GPT named {config['name']!r} exists")
                gpt = {"object": "gpt", "id": self.next_id("g-"), "created_at": now}
            else:
                gpt = dict(self.gpt_get(org, gpt_id))
                if any(g["id"] != gpt_id for g in taken):
                    raise APIError(409, "gpt_name_taken", f"A GPT named {config['name']!r} exists")
            gpt.update(config, updated_at=now)
            gpt.setdefault("sharing", {"visibility": "private", "group_ids": []})
            org.gpts[gpt["id"]] = gpt
            return gpt

    def gpt_delete(self, org: Org, gpt_id: str) -> dict:
        with self.lock:
            self.gpt_get(org, gpt_id)
            del org.gpts[gpt_id]
        return {"id": gpt_id, "object": "gpt.deleted", "deleted": True}

    def gpt_share(self, org: Org, gpt_id: str, body: Any) -> dict:
        if not isinstance(body, dict) or body.get("visibility") not in ("groups", "private"):
            raise APIError(
                400, None, "visibility must be 'groups' or 'private'", param="visibility"
            )
        group_ids = body.get("group_ids") or []
        if not isinstance(group_ids, list) or not all(isinstance(g, str) for g in group_ids):
            raise APIError(400, None, "group_ids must be a list of strings", param="group_ids")
        with self.lock:
            gpt = self.gpt_get(org, gpt_id)
            for group_id in group_ids:
                known = (
                    group_id.startswith("grp_")
                    if org.group_ids is None
                    else group_id in org.group_ids
                )
                if not known:
                    raise APIError(
                        404,
                        "group_not_found",
                        f"No workspace group {group_id!r}",
                        param="group_ids",
                    )
            gpt["sharing"] = {"visibility": body["visibility"], "group_ids": list(group_ids)}
        return {"gpt_id": gpt_id, "visibility": body["visibility"], "group_ids": list(group_ids)}


def _validate_gpt_config(config: Any, org: Org) -> dict:
    if not isinstance(config, dict):
        raise APIError(400, None, "body must be a GPTConfig object")
    name = config.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= GPT_NAME_LIMIT:
        raise APIError(400, None, "name is required (1–64 characters)", param="name")
    instructions = config.get("instructions") or ""
    if not isinstance(instructions, str) or len(instructions) > INSTRUCTIONS_LIMIT:
        raise APIError(
            400, None, "instructions must be at most 8000 characters", param="instructions"
        )
    for index, tool in enumerate(config.get("tools") or []):
        function = (tool or {}).get("function") or {}
        fname = function.get("name") or ""
        if not (1 <= len(fname) <= 64 and set(fname) <= FUNCTION_NAME_CHARS):
            raise APIError(400, None, f"invalid function name {fname!r}", param=f"tools[{index}]")
        if len(function.get("description") or "") > 300:
            raise APIError(400, None, "description over 300 characters", param=f"tools[{index}]")
    file_ids = config.get("file_ids") or []
    if len(file_ids) > FILES_LIMIT:
        raise APIError(400, None, "at most 20 knowledge files", param="file_ids")
    for file_id in file_ids:
        if file_id not in org.files:
            raise APIError(400, None, f"No file with id {file_id!r}", param="file_ids")
    allowed = {
        "name",
        "description",
        "instructions",
        "conversation_starters",
        "tools",
        "actions",
        "file_ids",
        "metadata",
    }
    return {key: value for key, value in config.items() if key in allowed}


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    value = _one(query, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise APIError(400, None, f"{name} must be an integer", param=name) from None


def generate_events(
    *,
    count: int,
    tenant: str = "dainese",
    skills: list[str] | None = None,
    start: int | None = None,
    end: int | None = None,
    claresia_ratio: float = 0.7,
    failed_ratio: float = 0.1,
    seed: int = 0,
    foreign_tenant: str = "othercorp",
) -> list[dict]:
    """A reproducible stream of `gpt.invoked` / `gpt.failed` events, some of other GPTs."""
    rng = random.Random(seed)
    skills = skills or ["incident-postmortem", "prd-review", "pipeline-hygiene"]
    end = end if end is not None else int(time.time())
    start = start if start is not None else end - 3600
    users = [("user-ana", "ana"), ("user-bo", "bo"), ("user-cy", "cy"), ("user-di", "di")]
    events = []
    for n in range(count):
        kind = "gpt.failed" if rng.random() < failed_ratio else "gpt.invoked"
        draw = rng.random()
        if draw < claresia_ratio:
            gpt_name = f"claresia-{tenant}-{rng.choice(skills)}"
        elif draw < claresia_ratio + (1 - claresia_ratio) / 4:
            gpt_name = f"claresia-{foreign_tenant}-{rng.choice(skills)}"
        else:
            gpt_name = rng.choice(["Travel Helper", "Legal Drafts", "brand-voice"])
        user_id, user = rng.choice(users)
        payload: dict[str, Any] = {
            "gpt_id": f"g-{zlib.crc32(gpt_name.encode()):08x}",
            "gpt_name": gpt_name,
            "conversation_id": f"conv-{seed:x}-{n:x}",
            "model": "gpt-4o",
            "usage": {
                "input_tokens": rng.randint(200, 4000),
                "output_tokens": rng.randint(50, 1500),
            },
            "latency_ms": rng.randint(400, 9000),
        }
        if kind == "gpt.failed":
            payload["error"] = {
                "code": rng.choice(["tool_error", "timeout", "content_filter"]),
                "message": "The GPT could not finish.",
            }
        events.append(
            {
                "id": f"audit_log-{seed:04x}{n:010x}",
                "type": kind,
                "effective_at": start + (end - start) * n // max(count, 1),
                "project": {"id": "proj_default", "name": "Default project"},
                "actor": {
                    "type": "session",
                    "session": {
                        "user": {"id": user_id, "email": f"{user}@{tenant}.example"},
                        "ip_address": "203.0.113.9",
                    },
                },
                kind: payload,
            }
        )
    return events
