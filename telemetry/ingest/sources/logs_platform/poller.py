"""The Compliance Logs Platform poller: each `user` message in a conversation with one of the
tenant's Claresia GPTs, and each call to the tenant's Claresia MCP app, into `fn_telemetry_event`
(source `compliance_logs`), exactly once (ARCHITECTURE.md → Exactly-once telemetry;
`shared/contracts/chatgpt-admin-api.md` → Compliance Logs Platform). A second source beside the
seed's audit-log poller (`poller.py`), run by the same `poll_telemetry`, beat fan-out and
per-tenant lock.

How a poll reads, and why it neither loses nor duplicates an event
-----------------------------------------------------------------
1. **Cursor = the `end_time` of the last fully stored file** (`LogsCursor.cursor_at`), never
   our clock. Files are listed `after` it (exclusive), in `end_time` order, page by page
   (`last_end_time`). A tenant with no cursor starts `TELEMETRY_INITIAL_LOOKBACK` back.
2. **One file, one transaction.** A file is downloaded through its 307 (the key never reaches
   the signed URL's host, which must be HTTPS at a public address), read as a stream (bounded
   memory: chunks, lines at most `MAX_LINE_BYTES`; bounded work: at most `LOGS_FILE_MAX_BYTES`
   decoded and `LOGS_FILE_MAX_SECONDS` in all), its bytes hashed as they pass; its rows are
   inserted and the cursor moved to its `end_time` in one transaction, only once the whole file
   has been read and its `file_sha256` matched. A crash mid-file stores nothing of it: the next
   poll re-reads it. A file that decodes past the size bound is refused whole and reported on
   the cursor, and the files after it are read (it would be refused on every poll); one that
   outlasts the time bound stops its type's poll before it, and the next poll tries again.
3. **A file that fails its checksum** is downloaded once more; a second mismatch stops the poll
   *before* that file with a clear poll error (the cursor stays behind it).
4. **Idempotent rows.** The source event id is the line's `event_id`, unique per tenant and
   source: the same event in two files (delivery is at least once) is stored once.
5. **Retention.** Files are kept 30 days: a cursor older than that records a visible gap on the
   poll ("events between … and … expired before Claresia read them") and reading resumes at the
   oldest file still kept; it never stalls.
6. **Pacing.** The client keeps under 100 requests per minute per route and honours
   `Retry-After`; a poll reads at most `FILE_BUDGET` files, so a backlog of thousands drains over
   several polls, each resuming at the cursor.

Two event types, each with its own cursor (`LogsCursor` per tenant and event type) and the same
rules above: `CONVERSATION_MESSAGE` first, then `APP_LOG`, in one poll under one lock, sharing
the file budget (both download on the same route). Conversations are read through the workspace
only: the organization path serves organization-scoped types (`APP_LOG`) and answers
`CONVERSATION_MESSAGE` with a 400, so an organization-only connection reads app calls alone
(`Principal.serves`). A line whose `principal.id` is not one of the tenant's (its workspace or
organization id) is skipped and counted, never stored as the tenant's.

A failure of one type's own (a 403 when the key may read conversations and not app logs, a 400,
a bad list or file, a refused download) is that type's error on its own cursor and the other type
still runs; one that concerns both (the key refused, a 404, the rate limit, OpenAI unavailable)
is recorded on both without asking again.

Why an `APP_LOG` call is a row (event type `app_call`), not a count on the poll: a count cannot be
exactly once (delivery is at least once, and only a stored `event_id` absorbs a repeat), and a
plugin skill is not a GPT, so its conversation messages carry no Claresia `gpt_id` to find it by:
the call to Claresia's own app (`emit_hub_record` on the hub's `/mcp`) is the Logs Platform's only
trace of it, joined to the hub record by conversation id on the record page. It is not an
invocation of its own: the hub record the call made is the use (it carries the skill, cost and
latency; the call's arguments, which name the skill, are never read), so `app_call` rows are left
out of the dashboard's invocation counts (`telemetry/dashboard.py`) and of reconciliation, whose
range follows the `CONVERSATION_MESSAGE` cursor only (an idle app would hold it back). Only calls
to the tenant's Claresia app are kept (other apps' calls are counted as skipped), one row per call:
its response line (the request line, the first of the two, is skipped); ids, times, the app, the
tool's name, `isError` (as `error_code` `tool_error`) and `external_call_time_ms` (as latency).
The app is known by its `app_id` once known — the connector's, set by the admin or learned from
the first call to an MCP app by its configured name — and until then by that name.

A plugin skill's use is visible only as an id in an assistant message's `skills_used`: each id of
each such message is its own row (key: `event_id` + skill id), resolved to a skill by the tenant's
`PluginSkillMapping` now or once it is learned or set (`plugin_skills.py`); an id first seen gets
an unmapped mapping in the same transaction as its rows.

What it does not catch: a file that appears later with an `end_time` at or before the cursor
(the contract promises `end_time` order; a late *event* arrives in a later file, which is read).

Which GPTs are the tenant's: the workspace's GPT inventory (`skills.services.inventory`, when a
workspace id is set) maps `conversation.gpt_id` to a skill by its name `claresia-{tenant}-{skill}`,
plus the GPT ids the tenant's hub records carry (`openai-gpt-id`); an unknown gpt id refreshes
the map once per poll. A GPT named for a longer tenant slug (`claresia-alpha-eu-…` seen by
`alpha`) is not the tenant's, as on the audit-log path. No message content is stored, logged or
shown (`logs_normalizer.py`).
"""

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from claresia.models import Tenant
from claresia.services import tenant_slugs_extending
from claresia.time_limits import SoftTimeLimitExceeded
from connectors.openai import chatgpt_admin
from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import (
    BadRequestError,
    LogFileRefusedError,
    LogFileTooLargeError,
    MalformedListError,
    OpenAIError,
    PermissionDeniedError,
)
from connectors.selectors import (
    connector_app_id,
    connector_of,
    connector_principal_ids,
    connector_workspace_id,
)
from connectors.services import ConnectorUnavailable, connector_app_id_learn, connector_client
from skills.rules import HUB_APP_NAME, HUB_APP_TITLE
from skills.services.bundles import tenant_context
from skills.services.inventory import gpt_inventory_read, gpt_skill_map
from skills.targets.plugin.build import plugin_name
from telemetry.hub.models import HubRecord
from telemetry.ingest.outcome import INTERNAL_ERROR_MESSAGE, PollStatus
from telemetry.ingest.rows import named_for_longer_slug
from telemetry.ingest.sources.logs_platform.normalizer import (
    MAX_LINE_BYTES,
    AppIdentity,
    AssistantModel,
    LineSkipped,
    LogRow,
    MalformedLine,
    app_call_fields,
    normalize_app_event,
    normalize_log_event,
    of_principal,
    parse_line,
    parse_time,
    skill_use_rows,
    with_models,
)
from telemetry.ingest.sources.logs_platform.plugin_skills import (
    plugin_skill_ids_seen,
    plugin_skill_map,
)
from telemetry.ingest.storage import telemetry_rows_insert, tenant_poll_lock
from telemetry.models import LogsCursor

logger = logging.getLogger(__name__)

EVENT_TYPES = (chatgpt_admin.CONVERSATION_MESSAGE, chatgpt_admin.APP_LOG)
RETENTION = timedelta(days=30)  # chatgpt-admin-api.md: files are kept 30 days
# Files one poll may read: two requests each (list pages aside), well under the per-route limit
# of 100 per minute for the download route over a poll of a few minutes.
FILE_BUDGET = 200
MALFORMED_REPORTED = 20


class FileCheckFailed(Exception):
    """A log file's bytes did not match its `file_sha256`, twice."""


@dataclass
class LogsOutcome:
    label = "Logs Platform"

    tenant: str
    status: PollStatus = PollStatus.OK
    files: int = 0
    stored: int = 0
    skipped: int = 0
    malformed: int = 0
    app_calls: int = 0  # of `stored`: calls to the tenant's Claresia app (APP_LOG)
    foreign: int = 0  # of `skipped`: lines of another workspace or organization
    refused: int = 0  # files refused (they decode past LOGS_FILE_MAX_BYTES)
    skill_uses: int = 0  # of `stored`: plugin skill uses (`skills_used`), mapped or not
    error: str = ""
    gap: str = ""
    malformed_at: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if self.status == PollStatus.LOCKED:
            return f"{self.tenant} Logs Platform: skipped, another poller is running"
        files = f"{self.files} file" + ("" if self.files == 1 else "s")
        stored = f"{self.stored} stored"
        if self.app_calls:
            stored += f" ({self.app_calls} app call{'' if self.app_calls == 1 else 's'})"
        if self.skill_uses:
            stored += f" ({self.skill_uses} plugin skill use{'' if self.skill_uses == 1 else 's'})"
        skipped = f"{self.skipped} skipped"
        if self.foreign:
            skipped += f" ({self.foreign} of another workspace or organization)"
        text = f"{self.tenant} Logs Platform: {stored}, {skipped}, {files}"
        if self.refused:
            text += f", {self.refused} file(s) refused"
        if self.malformed:
            text += f", {self.malformed} malformed line(s) ({'; '.join(self.malformed_at[:3])})"
        if self.status == PollStatus.PARTIAL:
            text += " (backlog not finished; the next poll resumes it)"
        if self.gap:
            text += f" — gap: {self.gap}"
        if self.error:
            text += f" — {self.error}"
        return text


@dataclass
class _FileRead:
    rows: list[LogRow]
    skipped: int
    malformed: list[tuple[int, str]]
    sha256: str
    foreign: int = 0
    refused: str = ""  # why the whole file was refused (it stores nothing)
    skill_uses: list[LogRow] = field(default_factory=list)


class _GptMap:
    """gpt id → skill for the tenant, loaded when the poll's first conversation line needs it
    (a quiet poll reads no inventory) and refreshed at most once per poll on an unknown id."""

    def __init__(self, tenant: Tenant, client: OpenAIClient, workspace_id: str | None) -> None:
        self.tenant, self.client, self.workspace_id = tenant, client, workspace_id
        self.refreshed = False
        self._gpts: dict | None = None

    @property
    def gpts(self) -> dict:
        if self._gpts is None:
            self._gpts = self._load()
        return self._gpts

    def _load(self) -> dict:
        # The longer-slug rule of the audit-log path (rows.named_for_longer_slug): a GPT
        # `claresia-alpha-eu-foo` is tenant alpha-eu's, never alpha's skill `eu-foo`.
        longer = tenant_slugs_extending(tenant=self.tenant)
        mapping: dict = {}
        for gpt_id, skill_ref, skill_pk in (
            HubRecord.objects.filter(tenant=self.tenant)
            .exclude(openai_gpt_id="")
            .values_list("openai_gpt_id", "skill__skill_id", "skill_id")
            .distinct()
        ):
            mapping[gpt_id] = (skill_ref, skill_pk)
        if self.workspace_id:
            inventory = gpt_inventory_read(
                tenant=self.tenant, client=self.client, workspace_id=self.workspace_id
            )
            mapping.update(gpt_skill_map(tenant=self.tenant, gpts=inventory))
            if longer:
                mapping.update(
                    dict.fromkeys(
                        gpt.id for gpt in inventory if named_for_longer_slug(gpt.name, longer)
                    )
                )
        return mapping

    def refresh(self) -> bool:
        """Reload once per poll; True when this call reloaded."""
        if self.refreshed:
            return False
        self.refreshed = True
        self._gpts = self._load()
        logger.info("telemetry %s: GPT inventory refreshed (unknown gpt id)", self.tenant.slug)
        return True


def file_lines(
    chunks: Iterator[bytes], digest, max_line: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line of a stream of chunks, hashing the bytes as they
    pass; a line longer than `max_line` is yielded as None and never held whole."""
    buffer = bytearray()
    overlong = False
    line_no = 0
    for chunk in chunks:
        digest.update(chunk)
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not overlong:
                    buffer += chunk[start:]
                    if len(buffer) > max_line:
                        overlong = True
                        buffer.clear()
                break
            line_no += 1
            if overlong:
                overlong = False
                yield line_no, None
            elif buffer:
                buffer += chunk[start:end]
                if len(buffer) > max_line:
                    yield line_no, None
                else:
                    yield line_no, bytes(buffer)
                buffer.clear()
            else:
                yield line_no, chunk[start:end] if end - start <= max_line else None
            start = end + 1
    if overlong:
        yield line_no + 1, None
    elif buffer:
        yield line_no + 1, bytes(buffer)


class _Readers:
    """What turns a poll's lines into rows: the tenant's principals (a line of any other is
    skipped), the GPT map and the mapped `skills_used` ids (CONVERSATION_MESSAGE) and the
    tenant's Claresia app (APP_LOG). Each is read when a line first needs it: a quiet poll (no
    new file) reads none of them."""

    def __init__(
        self, tenant: Tenant, principals: frozenset[str], gpt_map: _GptMap, app_id: str
    ) -> None:
        self.tenant, self.principals, self.gpt_map = tenant, principals, gpt_map
        self._app_id = app_id

    @cached_property
    def app(self) -> AppIdentity:
        return app_identity(self.tenant, app_id=self._app_id)

    @cached_property
    def plugin_skills(self) -> dict:
        return plugin_skill_map(tenant=self.tenant)

    def learn_app(self, app_id: str) -> None:
        """The app id of the first call to the app by its configured name: from now on the app
        is known by it (and the connector keeps it, when well formed and none was set)."""
        if not app_id or self.app.app_id:
            return
        self.app = self.app._replace(app_id=app_id)
        connector_app_id_learn(tenant=self.tenant, app_id=app_id)


def app_identity(tenant: Tenant, *, app_id: str | None = None) -> AppIdentity:
    """The tenant's Claresia app as an `APP_LOG` line names it: its app id when known (the
    connector's, `app_id` when the caller has it), and the names it is configured with (the
    hub's MCP server's name and title, the plugin that declares it), which ChatGPT shows as the
    app's display name."""
    if app_id is None:
        app_id = connector_app_id(tenant=tenant)
    context = tenant_context(tenant, app_id=app_id)
    names = {HUB_APP_NAME, HUB_APP_TITLE, plugin_name(context)}
    return AppIdentity(app_id, frozenset(n.lower() for n in names))


# Failures that may concern one event type only (the key may read one type and not the other,
# one file or one list may be bad): the next type is still read. Any other failure (the key
# refused, a wrong id, the rate limit, OpenAI unavailable) would meet the next type too.
TYPE_FAILURES = (
    PermissionDeniedError,
    BadRequestError,
    MalformedListError,
    FileCheckFailed,
    LogFileRefusedError,
)
# Never turned into a poll error: the database gone (the task retries) or the task's time limit
# (the task records it on every cursor, `telemetry/ingest/services.py`).
PASSED_ON = (OperationalError, InterfaceError, SoftTimeLimitExceeded)


def _attempt(step: Callable[[], object], *, what: str) -> tuple[str, bool]:
    """Run one step of a poll under its failure rules: ("", False) when it went well, else its
    error in words and whether it concerns every event type (then the poll asks no more). The
    one place those rules live: an OpenAI, connector or checksum problem in its own words, any
    other error logged whole and shown as the internal-error message."""
    try:
        step()
    except PASSED_ON:
        raise
    except FileCheckFailed as exc:
        return str(exc), False
    except (OpenAIError, ConnectorUnavailable) as exc:
        return exc.user_message, not isinstance(exc, TYPE_FAILURES)
    except Exception:
        logger.exception("Logs Platform poll of %s stopped on an error", what)
        return INTERNAL_ERROR_MESSAGE, True
    return "", False


@dataclass
class _Poll:
    """One poll's state, shared by the steps that read a tenant's files: who asks (client,
    principal), what turns lines into rows (readers), what the poll has done so far (outcome),
    its clock and its limits."""

    tenant: Tenant
    principal: chatgpt_admin.Principal
    client: OpenAIClient
    readers: _Readers
    outcome: LogsOutcome
    now: datetime
    max_files: int = FILE_BUDGET
    should_stop: Callable[[], bool] = lambda: False

    def run(self) -> None:
        """Each event type the principal serves, in order, each under the failure rules."""
        stopped = ""
        for event_type in EVENT_TYPES:
            if not self.principal.serves(event_type):
                # chatgpt-admin-api.md → Credentials and errors: conversations are
                # workspace-scoped; the organization path never serves them.
                continue
            cursor = _cursor(self.tenant, event_type, self.principal, self.now)
            if stopped:  # a failure that concerns every type: not asked again
                _failed([cursor], self.tenant, self.outcome, stopped, self.now)
                continue
            error, every_type = _attempt(
                lambda cursor=cursor: self.poll_type(cursor),
                what=f"tenant {self.tenant.slug} ({event_type})",
            )
            if error:
                _failed([cursor], self.tenant, self.outcome, error, self.now)
                stopped = error if every_type else ""

    def poll_type(self, cursor: LogsCursor) -> None:
        now, outcome = self.now, self.outcome
        oldest = now - RETENTION
        start = cursor.cursor_at or (now - timedelta(seconds=settings.TELEMETRY_INITIAL_LOOKBACK))
        if cursor.cursor_at is not None and cursor.cursor_at < oldest:
            gap = (
                f"events between {cursor.cursor_at:%Y-%m-%d %H:%M} and {oldest:%Y-%m-%d %H:%M} UTC "
                "expired before Claresia read them (the Logs Platform keeps files 30 days)"
            )
            outcome.gap = gap
            cursor.last_gap, cursor.last_gap_at = gap, now
            cursor.save(update_fields=["last_gap", "last_gap_at"])
            logger.warning("telemetry %s: %s", self.tenant.slug, gap)
        start = max(start, oldest)
        files = chatgpt_admin.logs_files(
            self.client,
            self.principal,
            event_type=cursor.event_type,
            after=chatgpt_admin.iso(start),
        )
        for file in files:
            if outcome.files >= self.max_files or self.should_stop():
                outcome.status = PollStatus.PARTIAL
                break
            try:
                end_time = parse_time(file.get("end_time"))
            except MalformedLine as exc:
                raise MalformedListError(f"log file {file.get('id')} has {exc}") from None
            read = self.read_file(file, cursor.event_type)
            _store_file(cursor, file, end_time, read, outcome)
        try:
            newest = chatgpt_admin.max_event_time(
                self.client, self.principal, event_type=cursor.event_type
            )
        except OpenAIError as exc:
            logger.warning("telemetry %s: max_event_time: %s", self.tenant.slug, exc.user_message)
        else:
            if newest:
                with contextlib.suppress(MalformedLine):  # freshness only: a bad value is not shown
                    cursor.max_event_time = parse_time(newest)
        cursor.last_success_at, cursor.last_error = now, ""
        cursor.save(update_fields=["max_event_time", "last_success_at", "last_error"])

    def read_file(self, file: dict, event_type: str) -> _FileRead:
        """Download and read one file, checked against its `file_sha256`: one retry on a
        mismatch, then FileCheckFailed."""
        expected = str(file.get("file_sha256") or "").lower()
        for attempt in (1, 2):
            read = self.download(file["id"], event_type)
            if read.refused or not expected or read.sha256 == expected:
                return read
            logger.warning(
                "telemetry %s: log file %s failed its sha256 check (attempt %d)",
                self.tenant.slug,
                file["id"],
                attempt,
            )
        raise FileCheckFailed(
            f"log file {file['id']} (end_time {file.get('end_time')}) failed its sha256 check "
            "twice: the poll stopped before it, and the next poll downloads it again"
        )

    def download(self, file_id: str, event_type: str) -> _FileRead:
        readers = self.readers
        digest = hashlib.sha256()
        rows: list[LogRow] = []
        uses: list[LogRow] = []
        models: dict[str, str] = {}
        skipped = foreign = 0
        malformed: list[tuple[int, str]] = []
        try:
            with chatgpt_admin.log_file_open(self.client, self.principal, file_id) as chunks:
                for line_no, line in file_lines(chunks, digest):
                    if line is None:
                        malformed.append((line_no, f"longer than {MAX_LINE_BYTES} bytes"))
                        continue
                    if not line.strip():
                        continue
                    try:
                        event = parse_line(line)
                        # Before anything is read from it: a line of another principal is not ours.
                        if not of_principal(event, readers.principals):
                            foreign += 1
                            continue
                        result = self.normalize(event, event_type, file_id, line_no)
                        used = (
                            skill_use_rows(
                                event,
                                plugin_skills=readers.plugin_skills,
                                log_file=file_id,
                                line_no=line_no,
                            )
                            if event_type == chatgpt_admin.CONVERSATION_MESSAGE
                            else []
                        )
                    except MalformedLine as exc:
                        malformed.append((line_no, str(exc)))
                        continue
                    uses += used
                    if isinstance(result, LogRow):
                        rows.append(result)
                    elif isinstance(result, AssistantModel):
                        models[result.conversation_id] = result.model
                    elif not used:
                        skipped += 1
        except LogFileTooLargeError as exc:
            # One bad file is reported and skipped (ARCHITECTURE.md → Bounded by construction):
            # it would be refused again on every poll, holding back every file after it.
            return _FileRead([], 0, [], "", refused=exc.user_message)
        if foreign:
            logger.warning(
                "telemetry %s: log file %s: %d line(s) of another workspace or organization "
                "skipped",
                self.tenant.slug,
                file_id,
                foreign,
            )
        return _FileRead(
            with_models(rows, models),
            skipped + foreign,
            malformed,
            digest.hexdigest(),
            foreign=foreign,
            skill_uses=uses,
        )

    def normalize(self, event: dict, event_type: str, file_id: str, line_no: int):
        readers = self.readers
        if event_type == chatgpt_admin.APP_LOG:
            result = normalize_app_event(event, ours=readers.app, log_file=file_id, line_no=line_no)
            if isinstance(result, LogRow) and not readers.app.app_id:
                readers.learn_app(app_call_fields(event).app_id)
            return result
        gpt_map, slug = readers.gpt_map, self.tenant.slug
        result = normalize_log_event(
            event, tenant_slug=slug, gpts=gpt_map.gpts, log_file=file_id, line_no=line_no
        )
        if result is LineSkipped.UNKNOWN_GPT and gpt_map.refresh():
            result = normalize_log_event(
                event, tenant_slug=slug, gpts=gpt_map.gpts, log_file=file_id, line_no=line_no
            )
        return result


def logs_poll(
    *,
    tenant: Tenant,
    principal: chatgpt_admin.Principal,
    now: datetime | None = None,
    client: OpenAIClient | None = None,
    connector=None,
    max_files: int = FILE_BUDGET,
    should_stop: Callable[[], bool] = lambda: False,
) -> LogsOutcome:
    """Read the tenant's new Logs Platform files into `fn_telemetry_event` (module docstring).
    `connector`: the tenant's, when the caller has loaded it already (else it is looked up).

    Never raises for an OpenAI, key or checksum problem: the outcome and the tenant's Logs
    Platform poll health say what happened.
    """
    now = now or timezone.now()
    outcome = LogsOutcome(tenant=tenant.slug)

    def read() -> None:
        loaded = connector if connector is not None else connector_of(tenant=tenant)
        opened_client = client or connector_client(
            tenant=tenant, connector=loaded, host=Host.CHATGPT_ADMIN
        )
        with opened_client as opened:
            readers = _Readers(
                tenant,
                connector_principal_ids(tenant=tenant, connector=loaded) | {principal.id.lower()},
                _GptMap(tenant, opened, connector_workspace_id(tenant=tenant, connector=loaded)),
                connector_app_id(tenant=tenant, connector=loaded),
            )
            _Poll(tenant, principal, opened, readers, outcome, now, max_files, should_stop).run()

    with tenant_poll_lock(tenant.pk) as acquired:
        if not acquired:
            outcome.status = PollStatus.LOCKED
            return outcome
        # A failure here came before any type was read (the client could not be had) or between
        # types: every type's cursor says it. The GPT map is read by the first conversation line
        # that needs it: a failure to read the inventory meets that type, under the rules above.
        error, _ = _attempt(read, what=f"tenant {tenant.slug}")
        if error:
            return _failed([], tenant, outcome, error, now)
    logger.info("telemetry poll %s", outcome)
    return outcome


def _cursor(tenant: Tenant, event_type: str, principal, now: datetime) -> LogsCursor:
    cursor, _ = LogsCursor.objects.get_or_create(tenant=tenant, event_type=event_type)
    if cursor.principal != str(principal):
        cursor.principal = str(principal)
        cursor.cursor_at, cursor.last_file_id = None, ""
    cursor.last_poll_at = now
    cursor.last_files = cursor.last_stored = cursor.last_malformed = 0
    cursor.malformed_report = ""
    cursor.save(update_fields=_POLL_STARTED)
    return cursor


# What a poll's start and each stored file change on the cursor: each save names its fields
# (Django builds and sends an UPDATE of these only, not of the cursor's sixteen).
_POLL_STARTED = (
    "principal",
    "cursor_at",
    "last_file_id",
    "last_poll_at",
    "last_files",
    "last_stored",
    "last_malformed",
    "malformed_report",
)
_FILE_STORED = (
    "cursor_at",
    "last_file_id",
    "last_files",
    "last_stored",
    "last_malformed",
    "malformed_report",
)


def _store_file(
    cursor: LogsCursor, file: dict, end_time: datetime, read: _FileRead, outcome: LogsOutcome
) -> None:
    """The file's rows and the cursor past it, in one transaction."""
    where = [f"file {file['id']} line {line_no}: {reason}" for line_no, reason in read.malformed]
    if read.refused:
        where.insert(0, f"file {file['id']} (end_time {file.get('end_time')}): {read.refused}")
    with transaction.atomic():
        stored = telemetry_rows_insert(tenant_id=cursor.tenant_id, rows=read.rows)
        uses = 0
        if read.skill_uses:
            uses = telemetry_rows_insert(tenant_id=cursor.tenant_id, rows=read.skill_uses)
            plugin_skill_ids_seen(tenant_id=cursor.tenant_id, rows=read.skill_uses)
            stored += uses
        if cursor.cursor_at is None or end_time > cursor.cursor_at:
            cursor.cursor_at = end_time
        cursor.last_file_id = str(file["id"])[:128]
        cursor.last_files += 1
        cursor.last_stored += stored
        cursor.last_malformed += len(read.malformed) + bool(read.refused)
        if where:
            report = [r for r in cursor.malformed_report.split("\n") if r] + where
            cursor.malformed_report = "\n".join(report[:MALFORMED_REPORTED])
        cursor.save(update_fields=_FILE_STORED)
    for line in where[:MALFORMED_REPORTED]:
        logger.warning("telemetry %s: malformed log line skipped: %s", cursor.tenant.slug, line)
    outcome.files += 1
    outcome.stored += stored
    if cursor.event_type == chatgpt_admin.APP_LOG:
        outcome.app_calls += stored
    outcome.skill_uses += uses
    outcome.skipped += read.skipped + (len(read.rows) + len(read.skill_uses) - stored)
    outcome.foreign += read.foreign
    outcome.refused += bool(read.refused)
    outcome.malformed += len(read.malformed)
    outcome.malformed_at.extend(where[: max(0, MALFORMED_REPORTED - len(outcome.malformed_at))])


def logs_poll_failed(*, tenant: Tenant, message: str, now: datetime) -> LogsOutcome:
    """Record on every event type's cursor that a Logs Platform poll stopped on `message`."""
    return _failed([], tenant, LogsOutcome(tenant=tenant.slug), message, now)


def _failed(cursors, tenant, outcome: LogsOutcome, message: str, now) -> LogsOutcome:
    """Mark the poll failed with `message`, on these cursors (every event type's when none is
    named: nothing was read)."""
    outcome.status = PollStatus.FAILED
    if cursors and cursors[0].event_type != EVENT_TYPES[0]:
        shown = f"{cursors[0].event_type}: {message}"  # the first type's errors read as before
    else:
        shown = message
    if shown not in outcome.error and message not in outcome.error:
        outcome.error = "; ".join(filter(None, [outcome.error, shown]))
    targets = cursors or [
        LogsCursor.objects.get_or_create(tenant=tenant, event_type=event_type)[0]
        for event_type in EVENT_TYPES
    ]
    for cursor in targets:
        cursor.last_error, cursor.last_error_at, cursor.last_poll_at = message, now, now
        cursor.save(update_fields=["last_error", "last_error_at", "last_poll_at"])
    logger.warning("Logs Platform poll failed for tenant %s: %s", tenant.slug, message)
    return outcome
