"""Simulated use of the demo tenant's skills, for `make run`: what ChatGPT Enterprise would do.

Each simulated invocation is what the real platform produces: with a ChatGPT workspace id (the
demo tenant's), a user message and the assistant's reply in a Compliance Logs Platform file of
the sandbox (`chatgpt-admin-api.md`); without one, the seed's audit event (`gpt.invoked` or
`gpt.failed`). In the workspace, half the uses (all of them when no GPT is published) are of
the tenant's **plugin skills**: the assistant's reply names the skill by its opaque id in
`message.author.skills_used`, and the skill's call to the Claresia app is two `APP_LOG` lines
(request, then response with `isError`). A hub record is posted to Claresia's own hub API over
HTTP, with the `openai-conversation-id` of the same conversation; a failed run posts a record of
status `failed` with its reason. Some uses leave no hub record (the seed's "Hub records
missing"), some post no usage (the hub estimates, telemetry corrects), and other workspaces'
GPTs are in the feed too. The poller then ingests the events like any other.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from claresia.models import Tenant
from connectors.sandbox.chatgpt_admin import message_author, plugin_skill_used_id
from skills.rules import HUB_APP_TITLE
from skills.selectors import gpt_publications, skills_of

# The Claresia app as the workspace registered it (chatgpt-admin-api.md → APP_LOG: `app_name` is
# the display name given in ChatGPT; the hub's MCP server title, app_connection/server.py).
DEMO_APP_ID = "asdk_app_claresia_dainese"
DEMO_APP_NAME = HUB_APP_TITLE
# Of the workspace's uses, the share that are plugin skills when GPTs are published too.
PLUGIN_SHARE = 0.5

USERS = [
    ("user-ana", "ana.ferri"),
    ("user-bruno", "bruno.costa"),
    ("user-chiara", "chiara.villa"),
    ("user-dario", "dario.neri"),
    ("user-elena", "elena.galli"),
]
MODELS = ["gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o-mini"]
OTHER_GPTS = ["Travel Helper", "Legal Drafts", "brand-voice", "claresia-acme-prd-review"]
FAILURES = [
    ("tool_error", "The action claresia.emit_hub_record did not answer in 45 s."),
    ("content_filter", "The reply was blocked by the workspace's content policy."),
    ("timeout", "The model did not finish within the time limit."),
]
OUTPUTS = {
    "incident-postmortem": (
        {"incident_id": "INC-{n}", "severity": "SEV2"},
        "## Summary\nCheckout latency rose to 4 s for 38 minutes after a cache node failed.\n\n"
        "## Impact\n- 12 % of checkouts retried\n- No data lost\n\n## Timeline\n"
        "| time | event |\n|---|---|\n| 09:12 | alert fired |\n| 09:50 | cache rebuilt |\n\n"
        "## Action items\n1. Alert on cache hit ratio\n2. Add a second replica",
    ),
    "prd-review": (
        {"prd_url": "https://docs.dainese.example/prd/{n}", "focus": "scope"},
        "## Verdict\n**Ready with changes.**\n\n## Gaps\n- Success metrics have no baseline\n"
        "- Rollout plan skips the EU stores\n\n## Questions\n1. Who owns the migration?",
    ),
    "pipeline-hygiene": (
        {"repository": "dainese/configurator", "window_days": 30},
        "## Findings\n- 3 flaky tests (retry rate > 20 %)\n- `deploy-eu` runs on a stale image\n\n"
        "## Suggested fixes\n1. Quarantine the flaky tests\n2. Pin the base image digest",
    ),
}


@dataclass
class TrafficTick:
    invocations: int = 0
    plugin_uses: int = 0  # of `invocations`: plugin skill uses (skills_used)
    app_calls: int = 0
    app_call_errors: int = 0  # of `failures`: the call to the app failed, no record written
    failures: int = 0
    hub_records: int = 0
    without_record: int = 0
    other_gpts: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrafficTarget:
    """Where the simulated platform sends things."""

    hub_url: str  # e.g. http://127.0.0.1:8000
    hub_token: str
    sandbox_url: str  # e.g. http://127.0.0.1:8765
    org_id: str
    # Set: the telemetry goes to the Logs Platform of this workspace; unset: the seed's audit log.
    workspace_id: str | None = None


def _log_lines(
    at: int,
    gpt_id: str | None,
    conversation: str,
    user,
    model: str,
    latency_ms: int,
    workspace: str,
    skills_used: list[str] | None = None,
) -> list[dict]:
    """A user message and the assistant's reply, as `CONVERSATION_MESSAGE` lines."""
    user_id, name = user
    lines = []
    for m, (author, moment) in enumerate((("user", at), ("assistant", at + latency_ms // 1000))):
        lines.append(
            {
                "event_id": f"evt-{uuid.uuid4().hex[:20]}",
                "type": "CONVERSATION_MESSAGE",
                "timestamp": _iso(moment),
                "principal": {"id": workspace, "type": "workspace"},
                "actor": {
                    "type": "ACCOUNT_USER",
                    "user_id": user_id,
                    "user_email": f"{name}@dainese.example",
                },
                "conversation": {
                    "id": conversation,
                    "title": "(simulated title)",
                    "gpt_id": gpt_id,
                    "project_id": None,
                },
                "message": {
                    "id": f"msg-{conversation}-{m}",
                    "author": message_author(author, model=model, skills_used=skills_used),
                    "content": {"content_type": "text", "parts": ["(simulated message)"]},
                },
            }
        )
    return lines


def _iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _app_log_lines(
    at: int, conversation: str, user, latency_ms: int, workspace: str, error: bool
) -> list[dict]:
    """A plugin skill's call to the Claresia app's `emit_hub_record`, as the two `APP_LOG`
    lines of the real shape (chatgpt-admin-api.md → APP_LOG): the request, whose `input._meta`
    holds the user's location, then the response with the tool's name, `isError` and its time."""
    user_id, name = user
    common = {
        "type": "APP_LOG",
        "principal": {"id": workspace, "type": "workspace"},
        "actor": {
            "type": "ACCOUNT_USER",
            "user_id": user_id,
            "user_email": f"{name}@dainese.example",
        },
        "app_id": DEMO_APP_ID,
        "app_name": DEMO_APP_NAME,
        "app_type": "MCP",
        "conversation_id": conversation,
    }
    moment = at + latency_ms // 1000
    return [
        {
            **common,
            "event_id": f"app-{uuid.uuid4().hex[:20]}",
            "timestamp": _iso(moment),
            "log_type": "request",
            "input": {
                "skill_id": "(simulated)",
                "output": "(simulated output)",
                "_meta": {
                    "openai/locale": "it-IT",
                    "openai/userLocation": {
                        "city": "Vicenza",
                        "latitude": 45.55,
                        "longitude": 11.55,
                    },
                },
            },
        },
        {
            **common,
            "event_id": f"app-{uuid.uuid4().hex[:20]}",
            "timestamp": _iso(moment + 1),
            "log_type": "response",
            "output": [
                {
                    "response": {
                        "action_name": "emit_hub_record",
                        "connector_id": DEMO_APP_ID,
                        "connector_name": DEMO_APP_NAME,
                        "is_sync": True,
                        "result": {
                            "content": [{"type": "text", "text": "(simulated footer)"}],
                            "isError": error,
                        },
                        "internal": {"external_call_time_ms": 180 + latency_ms % 400},
                    }
                }
            ],
        },
    ]


def _audit_event(
    kind: str,
    at: int,
    gpt_name: str,
    gpt_id: str,
    conversation: str,
    user,
    model: str,
    usage: dict,
    latency_ms: int,
    error=None,
) -> dict:
    payload = {
        "gpt_id": gpt_id,
        "gpt_name": gpt_name,
        "conversation_id": conversation,
        "model": model,
        "usage": usage,
        "latency_ms": latency_ms,
    }
    if error:
        payload["error"] = {"code": error[0], "message": error[1]}
    user_id, name = user
    return {
        "id": f"audit_log-{uuid.uuid4().hex[:20]}",
        "type": kind,
        "effective_at": at,
        "project": {"id": "proj_default", "name": "Default project"},
        "actor": {
            "type": "session",
            "session": {
                "user": {"id": user_id, "email": f"{name}@dainese.example"},
                "ip_address": "203.0.113.9",
            },
        },
        kind: payload,
    }


def demo_traffic_tick(
    *,
    tenant: Tenant,
    target: TrafficTarget,
    now: int,
    count: int,
    rng: random.Random,
    spread_seconds: int = 0,
) -> TrafficTick:
    """Simulate `count` invocations at or before `now` (spread over `spread_seconds`)."""
    published = gpt_publications(tenant=tenant)
    workspace = target.workspace_id
    # A plugin skill needs no GPT: every skill of the tenant's plugin can be used in the
    # workspace (chatgpt-admin-api.md → Plugins, the successor).
    skills = skills_of(tenant=tenant) if workspace else []
    tick = TrafficTick()
    if count == 0:
        return tick  # a quiet tick of the live rate: no empty Logs Platform file
    if not published and not skills:
        tick.errors.append("no published GPT yet: publish the demo skills first")
        return tick
    events = []
    lines: list[dict] = []
    app_lines: list[dict] = []
    with httpx.Client(base_url=target.hub_url, timeout=10) as hub:
        for n in range(count):
            at = now - (rng.randint(0, spread_seconds) if spread_seconds else rng.randint(0, 50))
            if rng.random() < 0.25:
                tick.other_gpts += 1
                name = rng.choice(OTHER_GPTS)
                if workspace:
                    other = f"g-other{rng.randint(1, 9)}"
                    conversation = f"conv-{uuid.uuid4().hex[:12]}"
                    lines += _log_lines(
                        at, other, conversation, rng.choice(USERS), "gpt-4o", 1800, workspace
                    )
                    continue
                events.append(
                    _audit_event(
                        "gpt.invoked",
                        at,
                        name,
                        f"g-other{rng.randint(1, 9)}",
                        f"conv-{uuid.uuid4().hex[:12]}",
                        rng.choice(USERS),
                        "gpt-4o",
                        {"input_tokens": 900, "output_tokens": 300},
                        1800,
                    )
                )
                continue
            plugin = bool(skills) and (not published or rng.random() < PLUGIN_SHARE)
            publication = None if plugin else rng.choice(published)
            skill = rng.choice(skills) if plugin else publication.skill
            user = rng.choice(USERS)
            model = rng.choice(MODELS)
            usage = {
                "input_tokens": rng.randint(600, 5200),
                "output_tokens": rng.randint(150, 1600),
            }
            latency = int(rng.lognormvariate(7.9, 0.45))
            conversation = f"conv-{uuid.uuid4().hex[:16]}"
            tick.invocations += 1
            draw = rng.random()
            failed = draw < 0.08
            without_record = not failed and draw < 0.14
            failure = rng.choice(FAILURES) if failed else None
            if plugin:
                tick.plugin_uses += 1
                lines += _log_lines(
                    at,
                    None,
                    conversation,
                    user,
                    model,
                    latency,
                    workspace,
                    skills_used=[plugin_skill_used_id(tenant.slug, skill.skill_id)],
                )
                # Half the failed runs fail in the call to the app itself (`isError`, no
                # record written); the others record their failure.
                app_error = failed and rng.random() < 0.5
                if not without_record:
                    tick.app_calls += 1
                    app_lines += _app_log_lines(
                        at, conversation, user, latency, workspace, error=app_error
                    )
                if app_error:
                    tick.failures += 1
                    tick.app_call_errors += 1
                    continue
            elif workspace:
                lines += _log_lines(
                    at, publication.gpt_id, conversation, user, model, latency, workspace
                )
            else:
                events.append(
                    _audit_event(
                        "gpt.failed" if failed else "gpt.invoked",
                        at,
                        skill.gpt_name,
                        publication.gpt_id,
                        conversation,
                        user,
                        model,
                        usage,
                        latency,
                        failure,
                    )
                )
            if failed:
                tick.failures += 1
                if not workspace:
                    continue  # the audit event says it failed, with its reason
            if without_record:
                tick.without_record += 1  # the call never happened: no hub record
                continue
            inputs, output = OUTPUTS.get(skill.skill_id, ({}, "## Result\nDone."))
            body = {
                "skill_id": skill.skill_id,
                "inputs": {
                    k: (v.format(n=4100 + n) if isinstance(v, str) else v)
                    for k, v in inputs.items()
                },
                "output": "" if failed else output,
                "model": model,
                "record_key": conversation,
            }
            if failed:
                # The Logs Platform carries no failure flag: the run's record says it failed.
                body["status"], body["error_code"] = "failed", failure[0]
            if rng.random() < 0.85:  # sometimes the skill sends no usage: the hub estimates
                body["usage"], body["latency_ms"] = usage, latency
            headers = {
                "Authorization": f"Bearer {target.hub_token}",
                "openai-conversation-id": conversation,
                "openai-ephemeral-user-id": f"eph-{user[0]}",
            }
            if publication is not None:
                headers["openai-gpt-id"] = publication.gpt_id
            response = hub.post("/hub/v1/records", json=body, headers=headers)
            if response.status_code in (200, 201):
                tick.hub_records += 1
            else:
                tick.errors.append(f"hub answered {response.status_code}: {response.text[:120]}")
    if workspace:
        for event_type, batch in (("CONVERSATION_MESSAGE", lines), ("APP_LOG", app_lines)):
            if not batch:
                continue
            httpx.post(
                f"{target.sandbox_url}/_sandbox/compliance/logs",
                json={
                    "principal": workspace,
                    "event_type": event_type,
                    "lines": sorted(batch, key=lambda line: line["timestamp"]),
                },
                timeout=10,
            ).raise_for_status()
        return tick
    httpx.post(
        f"{target.sandbox_url}/_sandbox/events",
        json={"org": target.org_id, "events": events},
        timeout=10,
    ).raise_for_status()
    return tick


def live_tick_counts(*, per_hour: int, interval: float, carry: float = 0.0) -> tuple[int, float]:
    """How many uses the next live tick makes, and the fraction carried to the one after, so
    that live traffic runs at the backfill's `per_hour` rate: a 24 h chart whose last minutes
    are a hundred times busier than the day before reads as an incident, not as a demo."""
    due = carry + per_hour * interval / 3600
    count = int(due + 1e-9)  # 0.1333… × 180 must make 24, not 23.999…
    return count, due - count
