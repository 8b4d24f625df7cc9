"""A hostile or broken audit-log feed never stops the poller: a bad event is normalized (NULs
stripped, numbers out of range dropped and flagged) or skipped and counted; a broken page is the
tenant's poll error; the cursor never runs past the window the poll asked for; a feed that
repeats a page cannot keep a poll going."""

import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from connectors.openai.client import OpenAIClient
from telemetry.ingest.services import telemetry_poll_tenants
from telemetry.ingest.sources.audit_log.poller import telemetry_poll
from telemetry.models import PollCursor, TelemetryEvent
from tests.telemetry.helpers import event

BASE = "https://openai.test/v1"


def feed(*pages: dict):
    """A transport serving `pages` in turn (the last one again and again)."""
    served = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = pages[min(len(served), len(pages) - 1)]
        served.append(str(request.url))
        return httpx.Response(200, content=_dumps(page))

    return handler, served


def _dumps(page: dict) -> bytes:
    # The json module writes what orjson refuses (integers beyond 64 bits), as a feed may.
    return json.dumps(page).encode()


def page(*events: dict, last_id: str | None = None, has_more: bool = False) -> dict:
    last = last_id if last_id is not None else (events[-1]["id"] if events else None)
    return {"object": "list", "data": list(events), "last_id": last, "has_more": has_more}


def client_for(handler) -> OpenAIClient:
    return OpenAIClient(
        api_key="sk-compliance-unit",
        organization_id="org-dainese",
        base_url=BASE,
        transport=httpx.MockTransport(handler),
    )


def poll(tenant, handler, **options):
    return telemetry_poll(tenant=tenant, client=client_for(handler), **options)


def recent(offset: int = 60) -> int:
    return int(time.time()) - offset


def hostile(event_id: str, **payload) -> dict:
    base = event(event_id, recent())
    base["gpt.invoked"].update(payload)
    return base


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("nul in actor e-mail", {"actor": {"session": {"user": {"email": "a\x00@x.example"}}}}),
        ("nul in event id", {"id": "audit_log-\x00nul"}),
        ("nul in gpt name", {"gpt.invoked": {"gpt_name": "claresia-dainese-prd\x00-review"}}),
        (
            "tokens of 2**70",
            {
                "gpt.invoked": {
                    "gpt_name": "claresia-dainese-prd-review",
                    "usage": {"input_tokens": 2**70},
                }
            },
        ),
        (
            "tokens of 3e9",
            {
                "gpt.invoked": {
                    "gpt_name": "claresia-dainese-prd-review",
                    "usage": {"output_tokens": 3e9},
                }
            },
        ),
        (
            "latency of 3e9",
            {"gpt.invoked": {"gpt_name": "claresia-dainese-prd-review", "latency_ms": 3e9}},
        ),
        ("nul deep in the raw event", {"extra": {"note": "x\x00y"}}),
    ],
)
def test_one_bad_event_is_normalized_and_the_rest_stored(db, tenant, connector, name, bad):
    # given: a page with one hostile event between two good ones
    bad_event = event("audit_log-bad", recent()) | bad
    handler, _ = feed(
        page(event("audit_log-1", recent()), bad_event, event("audit_log-2", recent()))
    )

    # when
    outcome = poll(tenant, handler)

    # then: the poll succeeds, and the good events are stored
    assert outcome.status == "ok", outcome.error
    ids = set(
        TelemetryEvent.objects.filter(tenant=tenant).values_list("source_event_id", flat=True)
    )
    assert {"audit_log-1", "audit_log-2"} <= ids
    assert not any("\x00" in i for i in ids)
    assert outcome.stored + outcome.skipped == 3


def test_numbers_out_of_range_are_dropped_and_flagged(db, tenant, connector):
    # given
    bad = hostile(
        "audit_log-big", usage={"input_tokens": 2**70, "output_tokens": 10}, latency_ms=3e9
    )
    handler, _ = feed(page(bad))

    # when
    poll(tenant, handler)

    # then
    row = TelemetryEvent.objects.get(tenant=tenant, source_event_id="audit_log-big")
    assert (row.input_tokens, row.output_tokens, row.latency_ms) == (None, 10, None)
    assert row.cost_usd is None
    assert row.dropped_fields == "input_tokens latency_ms"


@pytest.mark.parametrize("effective_at", [10**20, -(10**20), 1e300])
def test_an_event_time_no_calendar_holds_is_skipped_and_counted(
    db, tenant, connector, effective_at
):
    # given
    handler, _ = feed(page(event("audit_log-1", recent()), event("audit_log-x", effective_at)))

    # when
    outcome = poll(tenant, handler)

    # then
    assert outcome.status == "ok"
    assert (outcome.stored, outcome.skipped) == (1, 1)


def test_an_event_from_2200_does_not_move_the_cursor_past_the_window(db, tenant, connector):
    # given: a feed that ignores the window and serves an event from 2200
    now = datetime.fromtimestamp(recent(0), UTC)
    year_2200 = int(datetime(2200, 1, 1, tzinfo=UTC).timestamp())
    handler, _ = feed(page(event("audit_log-future", year_2200), event("audit_log-1", recent())))

    # when
    outcome = poll(tenant, handler, now=now)

    # then: the cursor stays within what the poll asked for; the stray event is skipped
    cursor = PollCursor.objects.get(tenant=tenant)
    assert cursor.cursor_at <= now
    assert (outcome.stored, outcome.skipped) == (1, 1)
    assert not TelemetryEvent.objects.filter(source_event_id="audit_log-future").exists()


@pytest.mark.parametrize("data", [5, "x", {"a": 1}, None])
def test_a_page_whose_data_is_not_a_list_is_the_tenants_poll_error(db, tenant, connector, data):
    # given
    handler, _ = feed({"object": "list", "data": data, "last_id": None, "has_more": False})

    # when
    outcome = poll(tenant, handler)

    # then
    cursor = PollCursor.objects.get(tenant=tenant)
    if data is None:  # an empty page, as OpenAI may send
        assert outcome.status == "ok"
    else:
        assert outcome.status == "failed"
        assert "page" in outcome.error
        assert cursor.last_error == outcome.error


def test_a_feed_that_repeats_a_page_stops_the_poll_at_once(db, tenant, connector):
    # given: a page that always says "more after audit_log-1"
    handler, served = feed(page(event("audit_log-1", recent()), has_more=True))

    # when
    outcome = poll(tenant, handler)

    # then
    assert outcome.status == "failed"
    assert "same page" in outcome.error
    assert len(served) <= 3
    assert TelemetryEvent.objects.filter(tenant=tenant).count() == 1


def test_every_poll_is_bounded_even_outside_celery(db, tenant, connector):
    # given: a feed with endless distinct pages
    counter = iter(range(10**9))

    def endless(request):
        n = next(counter)
        body = page(event(f"audit_log-{n}", recent()), has_more=True)
        return httpx.Response(200, content=_dumps(body))

    # when: a poll with no explicit page budget, as `poll_telemetry --once` and Poll now make
    outcome = poll(tenant, endless)

    # then: it stops at the default budget, the rest resumes next time
    assert outcome.status == "partial"
    assert outcome.pages <= 100


def test_a_failure_in_one_tenant_is_its_poll_error_not_the_next_tenants_silence(
    db, tenant, other_tenant, connector, monkeypatch
):
    # given: two connected tenants; polling the first blows up with an unexpected error
    from connectors.services import connector_connect
    from telemetry.ingest import services

    connector_connect(tenant=other_tenant, organization_id="org-other", api_key="sk-compliance-o")
    polled = []

    def fake_poll(*, tenant, **options):
        polled.append(tenant.slug)
        if tenant.slug == "dainese":
            raise RuntimeError("boom")
        return services.PollOutcome(tenant=tenant.slug, status="ok")

    monkeypatch.setattr(services, "telemetry_poll", fake_poll)

    # when
    outcomes = telemetry_poll_tenants()

    # then
    assert polled == ["dainese", "othercorp"]
    assert [o.status for o in outcomes] == ["failed", "ok"]
    assert "internal error" in outcomes[0].error
    assert PollCursor.objects.get(tenant=tenant).last_error == outcomes[0].error
