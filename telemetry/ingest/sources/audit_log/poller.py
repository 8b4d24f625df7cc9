"""The Compliance API poller: every `gpt.invoked` / `gpt.failed` audit event of the tenant's
`claresia-*` GPTs into `fn_telemetry_event`, exactly once (ARCHITECTURE.md → Exactly-once
telemetry; `shared/contracts/openai-enterprise-api.md` → Audit logs).

How a poll reads, and why it neither loses nor duplicates an event
-----------------------------------------------------------------
OpenAI serves audit logs newest first (`effective_at` desc, then id desc), pages linked by
`after=<last_id>`, and an event may appear minutes after its `effective_at`, behind events
already served. So:

1. **Cursor = event time.** `PollCursor.cursor_at` is the newest `effective_at` the poller has
   read (stored or skipped), never our clock: a clock ahead of OpenAI's cannot make it jump
   over events not yet visible. A tenant with no cursor starts `TELEMETRY_INITIAL_LOOKBACK`
   seconds back.
2. **A frozen window.** Before the first page, the window is fixed as
   `[cursor − TELEMETRY_OVERLAP, now]` and sent as `effective_at[gte]` / `effective_at[lte]`,
   so the set being paged through cannot grow at the top while it is read (events newer than
   `now` wait for the next window). The overlap re-reads the recent past, catching events that
   showed up late behind the cursor; re-read events are no-ops (below).
3. **Idempotent rows.** The source event id is unique per tenant and source; rows go in as
   `INSERT … ON CONFLICT DO NOTHING`, so reading an event twice stores it once.
4. **Progress only with the rows it covers.** Pages are buffered and flushed in one
   transaction that inserts the rows *and* records how far the window has been read: the
   `after` id of the last page flushed (`window_resume_after`) and the newest event time seen
   in the window. Only the flush of the window's last page (`has_more` false) moves
   `cursor_at`, to the newest event time of the window. A page that fails (429/5xx/timeout/
   non-JSON after the client's retries) is never flushed: the pages before it are, and the
   next poll resumes right after them. A kill at any point loses at most unflushed pages,
   which are re-read. (Pages are fetched a page or two ahead by a thread, `_prefetched`; a
   page fetched ahead is only ever flushed in order, after the ones before it.)
5. **Big windows are split, never re-polled forever.** Because progress inside a window is
   durable, a window too large for one poll (`max_pages`, a stop signal, a crash) resumes
   where it stopped (`after=window_resume_after`, same frozen bounds) instead of starting
   over. If OpenAI no longer knows that id (400), the window restarts from its top.
6. **One poller per tenant.** A PostgreSQL advisory lock per tenant
   (`storage.tenant_poll_lock`); a second poller skips the tenant. Even without it, (3) keeps
   rows unique.

What this guarantees: an event is stored if it becomes visible no later than
`TELEMETRY_OVERLAP` after the cursor passed its time; later than that is what the overlap
setting is for (and the per-user audit export can still bring it in).
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from claresia.models import Tenant
from claresia.services import tenant_slugs_extending
from claresia.time_limits import SoftTimeLimitExceeded
from connectors.openai import modelled
from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import BadRequestError, OpenAIError
from connectors.services import ConnectorUnavailable, connector_client
from skills.selectors import skill_pks_by_id
from telemetry.ingest.outcome import INTERNAL_ERROR_MESSAGE, PollOutcome, PollStatus
from telemetry.ingest.rows import TelemetryRow
from telemetry.ingest.sources.audit_log.normalizer import (
    DEFAULT_PRICES,
    EVENT_TYPES,
    MalformedEvent,
    normalize_audit_event,
)
from telemetry.ingest.storage import telemetry_rows_insert, tenant_poll_lock
from telemetry.models import PollCursor

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100
# Pages one poll may read (10,000 events), wherever it runs (beat, Poll now, the command): a
# larger window resumes at the next poll, so a poll's time is bounded whatever the backlog.
POLL_PAGE_BUDGET = 100
# Rows buffered before one flush transaction: tens of pages per commit, memory bounded.
FLUSH_ROWS = 5000
# Pages fetched ahead while a flush runs: about one flush's worth (~70 pages of 100 events, a
# few MB), a fixed bound whatever the backlog.
PREFETCH_PAGES = 64


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class _Window:
    """The frozen window of one poll and the progress not yet flushed."""

    def __init__(
        self, state: PollCursor, now: datetime, longer_slugs: tuple[str, ...] = ()
    ) -> None:
        # Other tenants whose GPT names extend this tenant's (normalize_audit_event).
        self.longer_slugs = longer_slugs
        if state.window_start is not None and state.window_end is not None:
            self.start, self.end = _epoch(state.window_start), _epoch(state.window_end)
            self.newest = _epoch(state.window_newest_at) if state.window_newest_at else None
            self.resume_after = state.window_resume_after or None
        else:
            if state.cursor_at is not None:
                # A cursor in the future (left by a feed that once served one) would freeze
                # the window there: never start after now.
                start = _epoch(min(state.cursor_at, now)) - settings.TELEMETRY_OVERLAP
            else:
                start = _epoch(now) - settings.TELEMETRY_INITIAL_LOOKBACK
            self.start, self.end = start, max(start, _epoch(now))
            self.newest, self.resume_after = None, None
        self.rows: list[TelemetryRow] = []
        self.skipped = 0
        self.done = False

    def take(self, page: dict, *, tenant_slug: str, skills: Mapping[str, int], prices) -> int:
        """Normalize one page into the buffer; return how many of its events were skipped.

        An event outside the window the poll asked for is skipped and never moves the cursor
        (a feed serving an event from 2200 would otherwise stop telemetry until 2200); an
        event that cannot be a row is skipped and counted, never the end of the poll.
        """
        skipped = 0
        for event in page.get("data") or ():
            effective_at = event.get("effective_at") if isinstance(event, dict) else None
            if isinstance(effective_at, int | float) and not isinstance(effective_at, bool):
                if not self.start <= effective_at <= self.end:
                    skipped += 1
                    continue
                if self.newest is None or effective_at > self.newest:
                    self.newest = int(effective_at)
            try:
                row = normalize_audit_event(
                    event,
                    tenant_slug=tenant_slug,
                    skills=skills,
                    prices=prices,
                    longer_slugs=self.longer_slugs,
                )
            except MalformedEvent as exc:
                logger.warning("telemetry %s: audit event skipped: %s", tenant_slug, exc)
                skipped += 1
                continue
            if isinstance(row, TelemetryRow):
                self.rows.append(row)
            else:
                skipped += 1
        self.skipped += skipped
        self.resume_after = page.get("last_id") or self.resume_after
        self.done = not page.get("has_more") or not page.get("last_id")
        return skipped


def _flush(state: PollCursor, window: _Window, tenant_id: int) -> int:
    """Insert the buffered rows and record the window's progress, in one transaction."""
    with transaction.atomic():
        stored = telemetry_rows_insert(tenant_id=tenant_id, rows=window.rows)
        if window.done:
            if window.newest is not None:
                newest = _moment(window.newest)
                if state.cursor_at is None or newest > state.cursor_at:
                    state.cursor_at = newest
            state.window_start = state.window_end = state.window_newest_at = None
            state.window_resume_after = ""
        else:
            state.window_start, state.window_end = _moment(window.start), _moment(window.end)
            state.window_newest_at = _moment(window.newest) if window.newest else None
            state.window_resume_after = window.resume_after or ""
        if state.cursor_at and (
            state.newest_event_at is None or state.cursor_at > state.newest_event_at
        ):
            state.newest_event_at = state.cursor_at
        state.last_stored += stored
        state.last_skipped += window.skipped
        state.save()
    window.rows = []
    window.skipped = 0
    return stored


def telemetry_poll(
    *,
    tenant: Tenant,
    now: datetime | None = None,
    max_pages: int = POLL_PAGE_BUDGET,
    should_stop: Callable[[], bool] = lambda: False,
    client: OpenAIClient | None = None,
    prices: Mapping[str, tuple[Decimal, Decimal]] = DEFAULT_PRICES,
) -> PollOutcome:
    """Read the tenant's new audit events into `fn_telemetry_event` (module docstring).

    Never raises for an OpenAI or key problem: the outcome and the tenant's poll health say
    what happened. `max_pages` bounds one poll (the rest of the window is resumed next time);
    `should_stop` is asked between pages (SIGTERM / SIGINT in `poll_telemetry`).
    """
    now = now or timezone.now()
    outcome = PollOutcome(tenant=tenant.slug, status=PollStatus.OK)
    with tenant_poll_lock(tenant.pk) as acquired:
        if not acquired:
            outcome.status = PollStatus.LOCKED
            return outcome
        state, _ = PollCursor.objects.get_or_create(tenant=tenant)
        state.last_poll_at = now
        state.last_stored = state.last_skipped = 0
        skills = skill_pks_by_id(tenant=tenant)
        window = _Window(state, now, tuple(tenant_slugs_extending(tenant=tenant)))
        try:
            with client or connector_client(tenant=tenant, host=Host.PLATFORM) as opened:
                _read_window(
                    state, window, tenant, opened, skills, prices, outcome, max_pages, should_stop
                )
        except (OpenAIError, ConnectorUnavailable) as exc:
            if outcome.pages:
                # The pages read before the failed one are kept, with their progress.
                outcome.stored += _flush(state, window, tenant.pk)
            return _failed(state, outcome, exc.user_message, now)
        except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
            # The database itself is away (the caller says so; nothing is lost), or the task's
            # time limit: its service records that, once the lock is released.
            raise
        except Exception:
            # One tenant's failure is its own poll error, never the end of a run.
            logger.exception("telemetry poll of tenant %s stopped on an error", tenant.slug)
            return _failed(state, outcome, INTERNAL_ERROR_MESSAGE, now)
        state.last_success_at, state.last_error = now, ""
        state.save(update_fields=["last_success_at", "last_error", "last_poll_at"])
    logger.info("telemetry poll %s", outcome)
    return outcome


def _failed(state: PollCursor, outcome: PollOutcome, message: str, now: datetime) -> PollOutcome:
    outcome.status = PollStatus.FAILED
    outcome.error = message
    state.last_error, state.last_error_at = message, now
    state.save(
        update_fields=["last_error", "last_error_at", "last_poll_at", "last_stored", "last_skipped"]
    )
    logger.warning("telemetry poll failed for tenant %s: %s", outcome.tenant, message)
    return outcome


def telemetry_poll_failed(
    *, tenant: Tenant, now: datetime, message: str = INTERNAL_ERROR_MESSAGE
) -> PollOutcome:
    """Record that a poll of `tenant` stopped on an internal error, or on `message` (its poll
    health says so)."""
    state, _ = PollCursor.objects.get_or_create(tenant=tenant)
    state.last_poll_at = now
    outcome = PollOutcome(tenant=tenant.slug, status=PollStatus.FAILED)
    return _failed(state, outcome, message, now)


def _read_window(state, window, tenant, client, skills, prices, outcome, max_pages, should_stop):
    while True:
        query = {
            "event_types": list(EVENT_TYPES),
            "effective_at": {"gte": window.start, "lte": window.end},
            "limit": PAGE_LIMIT,
            "after": window.resume_after,
        }
        try:
            fetched = modelled.audit_logs_pages(client, **query)
            if max_pages is not None:
                # Never fetch ahead past the page budget: each call counts against the org's
                # rate limit.
                fetched = islice(fetched, max(max_pages - outcome.pages, 0))
            with closing(_prefetched(fetched)) as pages:
                _consume(
                    pages, state, window, tenant, skills, prices, outcome, max_pages, should_stop
                )
            return
        except BadRequestError as exc:
            # The resume id is unknown to OpenAI: restart this window from its top.
            if not window.resume_after or exc.param not in (None, "after"):
                raise
            logger.warning("telemetry %s: resume id refused, window restarted", tenant.slug)
            window.resume_after = None
            window.newest = None


def _consume(pages, state, window, tenant, skills, prices, outcome, max_pages, should_stop):
    for page in pages:
        outcome.pages += 1
        outcome.skipped += window.take(page, tenant_slug=tenant.slug, skills=skills, prices=prices)
        pause = (max_pages is not None and outcome.pages >= max_pages) or should_stop()
        if window.done or pause or len(window.rows) >= FLUSH_ROWS:
            outcome.stored += _flush(state, window, tenant.pk)
        if window.done:
            return
        if pause:
            outcome.status = PollStatus.PARTIAL
            return


def _prefetched(pages: Iterator[dict], depth: int = PREFETCH_PAGES) -> Iterator[dict]:
    """Yield `pages`, fetched ahead by a thread: HTTP round trips overlap normalizing and,
    above all, the flush's database time. A page fetched ahead and not consumed (stop,
    budget, failure) was never flushed, so it simply gets read again next time."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    closed = threading.Event()

    def put(item) -> bool:
        while not closed.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            put(("error", exc))

    fetcher = threading.Thread(target=fetch, name="telemetry-prefetch", daemon=True)
    fetcher.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        closed.set()
        fetcher.join()
