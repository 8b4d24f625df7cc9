"""Seeding the sandbox's audit log and reading back what the poller stored; posting to the hub."""

import json
import time

from connectors.sandbox.state import generate_events
from telemetry.models import TelemetryEvent

ORG = "org-dainese"
HUB_RECORDS_URL = "/hub/v1/records"


def post_record(client, body, **headers):
    """POST `body` as JSON to the hub API, as a GPT action does."""
    return client.post(
        HUB_RECORDS_URL, data=json.dumps(body), content_type="application/json", **headers
    )


def seed(sandbox, count: int, *, seed: int = 0, start=None, end=None, org: str = ORG) -> set[str]:
    """Add `count` generated events; return the ids that belong to dainese's claresia GPTs."""
    end = end if end is not None else int(time.time()) - 5
    events = generate_events(
        count=count, tenant="dainese", seed=seed, start=start or end - 3000, end=end
    )
    sandbox.state.add_events(org, events)
    return {e["id"] for e in events if _gpt_name(e).startswith("claresia-dainese-")}


def _gpt_name(event: dict) -> str:
    return event[event["type"]]["gpt_name"]


def event(event_id: str, effective_at: int, *, gpt: str = "claresia-dainese-prd-review") -> dict:
    return {
        "id": event_id,
        "type": "gpt.invoked",
        "effective_at": effective_at,
        "gpt.invoked": {"gpt_name": gpt, "conversation_id": f"conv-{event_id}", "model": "gpt-4o"},
    }


def stored_ids(tenant) -> list[str]:
    """Every stored source event id, duplicates included (a list, not a set)."""
    return list(
        TelemetryEvent.objects.filter(tenant=tenant).values_list("source_event_id", flat=True)
    )
