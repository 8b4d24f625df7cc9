"""The Compliance API poller against the OpenAI sandbox over real HTTP: the final table holds
exactly the expected events, whatever the feed or OpenAI does."""

import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from django.db import connection

from connectors.openai.client import Host
from connectors.openai.errors import COMPLIANCE_DISABLED_MESSAGE
from connectors.sandbox.state import Fault
from connectors.services import connector_client, connector_connect
from telemetry.ingest.outcome import PollStatus
from telemetry.ingest.sources.audit_log.poller import telemetry_poll
from telemetry.ingest.storage import POLL_LOCK_CLASS
from telemetry.models import PollCursor, TelemetryEvent
from tests.factories import COMPLIANCE_KEY, make_skill
from tests.telemetry.helpers import ORG, event, seed, stored_ids

pytestmark = pytest.mark.integration
AUDIT_LOGS = "/v1/organization/audit_logs"


def audit_log_calls(sandbox) -> list[int]:
    return [status for _, path, status in sandbox.state.requests if path == AUDIT_LOGS]


def test_a_multi_page_backlog_is_stored_exactly_once(sandbox, connector, tenant):
    # given: 750 events, 8 pages, some of other GPTs and of another tenant
    expected = seed(sandbox, 750)

    # when
    outcome = telemetry_poll(tenant=tenant)

    # then
    assert outcome.status == "ok"
    assert outcome.pages == 8
    assert Counter(stored_ids(tenant)) == Counter(expected)
    assert (outcome.stored, outcome.skipped) == (len(expected), 750 - len(expected))


def test_events_sharing_a_second_across_page_boundaries_are_stored_once(sandbox, connector, tenant):
    # given: 250 events in the same second, so pages split that second twice
    now = int(time.time()) - 60
    sandbox.state.add_events(ORG, [event(f"audit_log-same{n:04d}", now) for n in range(250)])

    # when: polled twice (the second poll re-reads them through the overlap)
    telemetry_poll(tenant=tenant)
    second = telemetry_poll(tenant=tenant)

    # then
    assert sorted(stored_ids(tenant)) == [f"audit_log-same{n:04d}" for n in range(250)]
    assert second.stored == 0


def test_the_cursor_is_the_newest_event_time_read(sandbox, connector, tenant):
    # given
    newest = int(time.time()) - 120
    sandbox.state.add_events(ORG, [event("audit_log-a", newest - 50), event("audit_log-b", newest)])

    # when
    telemetry_poll(tenant=tenant)

    # then
    cursor = PollCursor.objects.get(tenant=tenant)
    assert cursor.cursor_at == datetime.fromtimestamp(newest, UTC)
    assert cursor.window_start is None


def test_a_late_event_behind_the_cursor_is_caught_by_the_overlap(sandbox, connector, tenant):
    # given: a first poll has moved the cursor
    now = int(time.time())
    sandbox.state.add_events(ORG, [event("audit_log-on-time", now - 60)])
    telemetry_poll(tenant=tenant)

    # when: an event 5 minutes older than the cursor shows up late
    sandbox.state.add_events(ORG, [event("audit_log-late", now - 360)])
    telemetry_poll(tenant=tenant)

    # then
    assert sorted(stored_ids(tenant)) == ["audit_log-late", "audit_log-on-time"]


def test_the_first_poll_reads_back_only_the_initial_lookback(sandbox, connector, tenant, settings):
    # given
    settings.TELEMETRY_INITIAL_LOOKBACK = 3600
    now = int(time.time())
    sandbox.state.add_events(
        ORG, [event("audit_log-recent", now - 1800), event("audit_log-ancient", now - 7200)]
    )

    # when
    telemetry_poll(tenant=tenant)

    # then
    assert stored_ids(tenant) == ["audit_log-recent"]


@pytest.mark.parametrize("retry_after", ["1", None], ids=["with-retry-after", "without"])
def test_rate_limited_pages_are_retried_and_nothing_is_lost(
    sandbox, connector, tenant, retry_after
):
    # given: two 429s on the way through a 4-page backlog
    expected = seed(sandbox, 400)
    sandbox.state.faults.append(_fault(status=429, retry_after=retry_after, times=2, every=2))

    # when
    outcome = telemetry_poll(tenant=tenant)

    # then
    assert outcome.status == "ok"
    assert audit_log_calls(sandbox).count(429) == 2
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_server_errors_are_retried_and_nothing_is_lost(sandbox, connector, tenant):
    # given
    expected = seed(sandbox, 400)
    sandbox.state.faults.append(_fault(status=500, times=2))

    # when
    outcome = telemetry_poll(tenant=tenant)

    # then
    assert outcome.status == "ok"
    assert audit_log_calls(sandbox).count(500) == 2
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_a_timed_out_page_is_retried_and_nothing_is_lost(sandbox, connector, tenant):
    # given: the second page answers after the client has given up once
    expected = seed(sandbox, 300)
    sandbox.state.faults.append(_fault(status=None, delay=1.0, times=1, every=2))
    client = connector_client(connector=connector, host=Host.PLATFORM, timeout=0.3)

    # when
    outcome = telemetry_poll(tenant=tenant, client=client)

    # then
    assert outcome.status == "ok"
    assert Counter(stored_ids(tenant)) == Counter(expected)
    # The abandoned request is still answered after its delay: let it land here, not in the
    # request log of the next test.
    _wait_until(lambda: len(audit_log_calls(sandbox)) > outcome.pages)


def test_a_truncated_page_is_retried_and_nothing_is_lost(sandbox, connector, tenant):
    # given: one page cut off mid-JSON, served as a 200
    expected = seed(sandbox, 300)
    sandbox.state.faults.append(
        _fault(status=200, body='{"object": "list", "data": [{"id": "audit_lo', every=2)
    )

    # when
    outcome = telemetry_poll(tenant=tenant)

    # then
    assert outcome.status == "ok"
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_a_page_that_keeps_failing_keeps_the_pages_before_and_never_moves_the_cursor(
    sandbox, connector, tenant
):
    # given: every call after the second page fails, beyond the client's retries
    expected = seed(sandbox, 500)
    client = connector_client(
        connector=connector, host=Host.PLATFORM, transport=FailingAfter(good_calls=2)
    )

    # when
    failed = telemetry_poll(tenant=tenant, client=client)

    # then: the two good pages are stored, the cursor has not moved, the reason is shown
    cursor = PollCursor.objects.get(tenant=tenant)
    assert failed.status == "failed"
    assert (failed.pages, TelemetryEvent.objects.count()) == (2, failed.stored)
    assert cursor.cursor_at is None
    assert cursor.last_error.startswith("OpenAI unavailable: HTTP 503")

    # when: OpenAI recovers
    sandbox.state.faults.clear()
    recovered = telemetry_poll(tenant=tenant)

    # then: the window resumes after the stored pages and completes
    assert recovered.status == "ok"
    assert recovered.pages == 3
    assert Counter(stored_ids(tenant)) == Counter(expected)
    assert PollCursor.objects.get(tenant=tenant).last_error == ""


def test_a_window_too_large_for_one_poll_is_resumed_not_restarted(sandbox, connector, tenant):
    # given: 10 pages of backlog and a budget of 4 pages per poll
    expected = seed(sandbox, 1000)

    # when
    outcomes = [telemetry_poll(tenant=tenant, max_pages=4) for _ in range(3)]

    # then: 4 + 4 + 2 pages, each fetched once (nothing fetched ahead past a budget)
    assert [(o.status, o.pages) for o in outcomes] == [("partial", 4), ("partial", 4), ("ok", 2)]
    assert len(audit_log_calls(sandbox)) == 10
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_a_stop_request_ends_the_poll_between_pages_with_progress_kept(sandbox, connector, tenant):
    # given
    expected = seed(sandbox, 500)
    asked = iter([False, True])

    # when: the stop arrives after the second page
    first = telemetry_poll(tenant=tenant, should_stop=lambda: next(asked, True))
    second = telemetry_poll(tenant=tenant)

    # then
    assert (first.status, first.pages, second.pages) == ("partial", 2, 3)
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_compliance_api_disabled_is_shown_as_poll_health(sandbox, tenant):
    # given: an org below the Enterprise tier
    connector_connect(tenant=tenant, organization_id="org-team-dainese", api_key=COMPLIANCE_KEY)

    # when
    outcome = telemetry_poll(tenant=tenant)

    # then
    health = PollCursor.objects.get(tenant=tenant)
    assert outcome.status == "failed"
    assert health.last_error.startswith(COMPLIANCE_DISABLED_MESSAGE)
    assert health.last_success_at is None


def test_poll_health_counts_stored_and_skipped_events_of_the_last_poll(sandbox, connector, tenant):
    # given
    expected = seed(sandbox, 200)

    # when
    telemetry_poll(tenant=tenant)

    # then
    health = PollCursor.objects.get(tenant=tenant)
    assert (health.last_stored, health.last_skipped) == (len(expected), 200 - len(expected))
    assert health.last_success_at is not None
    assert health.newest_event_at == health.cursor_at


def test_events_are_linked_to_the_tenants_skills(sandbox, connector, tenant):
    # given
    skill = make_skill(tenant, skill_id="prd-review", name="PRD review")
    now = int(time.time()) - 30
    sandbox.state.add_events(
        ORG,
        [
            event("audit_log-known", now),
            event("audit_log-unknown", now, gpt="claresia-dainese-gone"),
        ],
    )

    # when
    telemetry_poll(tenant=tenant)

    # then
    rows = dict(TelemetryEvent.objects.values_list("source_event_id", "skill"))
    assert rows == {"audit_log-known": skill.pk, "audit_log-unknown": None}
    assert TelemetryEvent.objects.get(source_event_id="audit_log-unknown").skill_unknown


def test_a_tenant_polled_by_another_process_is_skipped(sandbox, connector, tenant):
    # given: another session holds the tenant's poll lock
    seed(sandbox, 50)
    dsn = _dsn()
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [POLL_LOCK_CLASS, tenant.pk])

        # when
        outcome = telemetry_poll(tenant=tenant)

    # then
    assert outcome.status == "locked"
    assert audit_log_calls(sandbox) == []


def _dsn() -> str:
    params = connection.get_connection_params()
    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    )


class FailingAfter(httpx.HTTPTransport):
    """The real sandbox for the first calls, then 503 on every call: a lasting outage."""

    def __init__(self, *, good_calls: int) -> None:
        super().__init__()
        self.good_calls = good_calls

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.good_calls <= 0:
            return httpx.Response(503, json={"error": {"message": "down", "code": None}})
        self.good_calls -= 1
        return super().handle_request(request)


def _wait_until(condition, deadline: float = 10.0) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline, "condition not met"
        time.sleep(0.02)


def _fault(**fields) -> Fault:
    return Fault(path=AUDIT_LOGS, **fields)


def test_a_resume_id_openai_no_longer_knows_restarts_the_window(sandbox, connector, tenant):
    # given: a window in progress whose resume id the audit log does not hold
    expected = seed(sandbox, 300)
    now = int(time.time())
    PollCursor.objects.create(
        tenant=tenant,
        window_start=datetime.fromtimestamp(now - 86_400, UTC),
        window_end=datetime.fromtimestamp(now, UTC),
        window_resume_after="audit_log-forgotten",
    )

    # when
    outcome = telemetry_poll(tenant=tenant)

    # then
    assert outcome.status == "ok"
    assert audit_log_calls(sandbox)[0] == 400
    assert Counter(stored_ids(tenant)) == Counter(expected)


def test_the_raw_audit_event_is_stored_as_json(sandbox, connector, tenant):
    # given
    audit_event = event("audit_log-raw", int(time.time()) - 30)
    sandbox.state.add_events(ORG, [dict(audit_event)])

    # when
    telemetry_poll(tenant=tenant)

    # then
    stored = TelemetryEvent.objects.get()
    assert stored.raw == audit_event
    assert TelemetryEvent.objects.filter(raw__type="gpt.invoked").count() == 1


def test_a_key_that_cannot_be_decrypted_fails_the_poll_with_the_connectors_message(
    sandbox, connector, tenant, settings
):
    # given the key the connector was encrypted under is gone
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # when the tenant is polled
    outcome = telemetry_poll(tenant=tenant)

    # then the poll fails with the connector's message, shown as the poll health
    assert outcome.status == PollStatus.FAILED
    assert "paste the Compliance API key again" in outcome.error
    assert PollCursor.objects.get(tenant=tenant).last_error == outcome.error


def test_a_tenant_without_a_connector_fails_the_poll_and_is_told_to_connect(sandbox, tenant):
    # given a tenant that was never connected

    # when it is polled
    outcome = telemetry_poll(tenant=tenant)

    # then the poll fails with the connector's message, and nothing was called
    assert outcome.status == PollStatus.FAILED
    assert outcome.error == "tenant dainese has no ChatGPT Enterprise connector: connect it first"
    assert audit_log_calls(sandbox) == []
