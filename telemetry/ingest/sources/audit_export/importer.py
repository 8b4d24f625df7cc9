"""The fallback when the Compliance API is off: the per-user audit export, imported into the
same `fn_telemetry_event` through the same normalizer, with source `audit_export`.

Formats (one audit event per record):
- **JSONL**: each line one AuditLog object, exactly as the API serves it
  (`shared/contracts/openai-enterprise-api.md` → Audit logs).
- **CSV**: a header row, then one event per row. Needed columns: `id`, `type`, `effective_at`
  (unix seconds or ISO 8601), `gpt_name`. Optional: `actor_user_id`, `actor_email`, `gpt_id`,
  `conversation_id`, `model`, `input_tokens`, `output_tokens`, `latency_ms`, `error_code`,
  `error_message`.

A malformed record is reported with its line number and the rest of the file still imports;
importing the same file twice stores nothing the second time.
"""

import codecs
import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.db import transaction
from django.template.defaultfilters import pluralize

from claresia.models import Tenant
from claresia.services import tenant_slugs_extending
from skills.selectors import skill_pks_by_id
from telemetry.ingest.rows import TelemetryRow
from telemetry.ingest.sources.audit_log.normalizer import (
    DEFAULT_PRICES,
    SOURCE_AUDIT_EXPORT,
    MalformedEvent,
    normalize_audit_event,
)
from telemetry.ingest.storage import telemetry_rows_insert

CSV_REQUIRED = ("id", "type", "effective_at", "gpt_name")
FLUSH_ROWS = 2000
MAX_REPORTED_ERRORS = 200
# No audit event needs more; a longer line is reported and skipped without being held whole.
MAX_LINE_BYTES = 1_000_000
OVERLONG_MESSAGE = "the line is longer than 1 MB"


class AuditExportError(ValueError):
    """The file as a whole cannot be read (no header, not CSV or JSONL); nothing imported."""


@dataclass
class AuditExportReport:
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0

    def summary(self) -> str:
        text = (
            f"{self.records} event{pluralize(self.records)} read: {self.stored} stored, "
            f"{self.duplicates} already there, {self.skipped} skipped "
            "(not this tenant's claresia-* GPTs), "
            f"{self.error_count} malformed"
        )
        return text


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value else None


def _epoch(value: str) -> int:
    value = (value or "").strip()
    if not value:
        raise MalformedEvent("effective_at is empty")
    try:
        return int(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(
            f"effective_at {value[:40]!r} is neither unix seconds nor ISO 8601"
        ) from None
    if moment.tzinfo is None:
        raise MalformedEvent(f"effective_at {value[:40]!r} has no time zone")
    return int(moment.timestamp())


def _event_from_csv(row: Mapping[str, str | None]) -> dict[str, Any]:
    """A CSV record in the AuditLog shape the normalizer reads."""
    kind = (row.get("type") or "").strip()
    try:
        usage = {
            "input_tokens": _int_or_none(row.get("input_tokens")),
            "output_tokens": _int_or_none(row.get("output_tokens")),
        }
        latency = _int_or_none(row.get("latency_ms"))
    except ValueError:
        raise MalformedEvent("a token count or latency_ms is not a whole number") from None
    payload: dict[str, Any] = {
        "gpt_id": row.get("gpt_id") or None,
        "gpt_name": (row.get("gpt_name") or "").strip(),
        "conversation_id": row.get("conversation_id") or None,
        "model": row.get("model") or None,
        "usage": usage,
        "latency_ms": latency,
    }
    if row.get("error_code") or row.get("error_message"):
        payload["error"] = {"code": row.get("error_code"), "message": row.get("error_message")}
    return {
        "id": (row.get("id") or "").strip(),
        "type": kind,
        "effective_at": _epoch(row.get("effective_at") or ""),
        "actor": {
            "type": "session",
            "session": {"user": {"id": row.get("actor_user_id"), "email": row.get("actor_email")}},
        },
        kind: payload,
    }


class _Overlong(str):
    """Stands for a line longer than MAX_LINE_BYTES: an empty line to a CSV reader."""

    __slots__ = ()


class _BoundedLines:
    """The stream's lines as text, none held longer than MAX_LINE_BYTES: a longer one is read
    through in chunks and handed on as an `_Overlong`, its line number kept in `overlong`."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.number = 0
        self.overlong: list[int] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if self.number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := self.stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            self.overlong.append(self.number)
            return _Overlong("\n")
        return line.decode("utf-8", errors="replace")


def _jsonl_records(lines: Iterator[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if isinstance(line, _Overlong):
            yield number, MalformedEvent(OVERLONG_MESSAGE)
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = MalformedEvent("not valid JSON")
        except RecursionError:  # nested deeper than Python's parser goes: no event is
            record = MalformedEvent("JSON nested too deeply for an audit event")
        yield number, record


def _csv_records(lines: Iterator[str], overlong: list[int]) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        raise AuditExportError(
            f"the CSV header lacks {', '.join(missing)} (needed: {', '.join(CSV_REQUIRED)})"
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            row = None
        except csv.Error as exc:
            yield reader.line_num, MalformedEvent(f"not valid CSV ({exc})")
            continue
        while overlong:  # read through as blank lines: reported here, in order
            yield overlong.pop(0), MalformedEvent(OVERLONG_MESSAGE)
        if row is None:
            return
        number = reader.line_num
        if None in row:
            yield number, MalformedEvent("more fields than the header has")
            continue
        try:
            yield number, _event_from_csv(row)
        except MalformedEvent as exc:
            yield number, exc


def _records(stream: IO[bytes], filename: str) -> Iterator[tuple[int, Any]]:
    lines = _BoundedLines(stream)
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return _jsonl_records(lines)
    if name.endswith(".csv"):
        return _csv_records(lines, lines.overlong)
    first = next(lines, "")
    rest = _chain(first, lines)
    if first.lstrip().startswith("{"):
        return _jsonl_records(rest)
    if "," in first:
        return _csv_records(rest, lines.overlong)
    raise AuditExportError("the file is neither CSV (with a header row) nor JSONL")


def _chain(first: str, lines: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from lines


def audit_export_import(
    *,
    tenant: Tenant,
    stream: IO[bytes],
    filename: str = "",
    prices: Mapping[str, tuple[Decimal, Decimal]] = DEFAULT_PRICES,
) -> AuditExportReport:
    """Import a per-user audit export (CSV or JSONL) for `tenant`, idempotently.

    Raises AuditExportError, importing nothing, when the file as a whole is unreadable.
    """
    skills = skill_pks_by_id(tenant=tenant)
    longer_slugs = tenant_slugs_extending(tenant=tenant)
    report = AuditExportReport()
    rows: list[TelemetryRow] = []

    def flush() -> None:
        with transaction.atomic():
            stored = telemetry_rows_insert(tenant_id=tenant.pk, rows=rows)
        report.stored += stored
        report.duplicates += len(rows) - stored
        rows.clear()

    for number, record in _records(stream, filename):
        report.records += 1
        try:
            if isinstance(record, MalformedEvent):
                raise record
            row = normalize_audit_event(
                record,
                tenant_slug=tenant.slug,
                skills=skills,
                longer_slugs=longer_slugs,
                prices=prices,
                source=SOURCE_AUDIT_EXPORT,
            )
        except MalformedEvent as exc:
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append((number, str(exc)))
            continue
        if isinstance(row, TelemetryRow):
            rows.append(row)
            if len(rows) >= FLUSH_ROWS:
                flush()
        else:
            report.skipped += 1
    flush()
    return report
