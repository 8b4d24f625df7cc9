"""The Logs Platform's pure core: line reading with bounded memory and line → row."""

import hashlib
import subprocess
import sys

import orjson
import pytest

from telemetry.ingest.rows import TelemetryRow
from telemetry.ingest.sources.logs_platform.normalizer import (
    INVOKED,
    SOURCE_COMPLIANCE_LOGS,
    AssistantModel,
    LineSkipped,
    LogRow,
    MalformedLine,
    normalize_log_event,
)
from telemetry.ingest.sources.logs_platform.poller import file_lines
from telemetry.models import TelemetryEvent

GPTS = {"g-ours": ("prd-review", 7), "g-other": None}


def line(author="user", gpt_id="g-ours", **extra):
    return {
        "event_id": "evt-1",
        "type": "CONVERSATION_MESSAGE",
        "timestamp": "2026-11-20T10:00:00Z",
        "actor": {"type": "ACCOUNT_USER", "user_id": "u-1", "user_email": "ana@example.com"},
        "conversation": {"id": "conv-1", "gpt_id": gpt_id, "project_id": None},
        "message": {
            "author": {"type": author, "model": "gpt-4o" if author == "assistant" else None},
            "content": {"parts": ["secret words"]},
        },
        **extra,
    }


def normalize(event):
    return normalize_log_event(event, tenant_slug="dainese", gpts=GPTS, log_file="f1", line_no=3)


def test_the_row_has_the_telemetry_tables_columns_and_values():
    assert LogRow._fields == TelemetryRow._fields
    assert SOURCE_COMPLIANCE_LOGS in TelemetryEvent.Source.values
    assert INVOKED in TelemetryEvent.EventType.values


def test_the_core_imports_no_django():
    # when
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, telemetry.ingest.sources.logs_platform.normalizer; "
            "print(any(m.startswith('django') for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    # then
    assert probe.stdout.strip() == "False"


def test_a_user_message_is_an_invocation_without_content():
    # when
    row = normalize(line())

    # then
    assert isinstance(row, LogRow)
    assert (row.skill_id, row.skill_ref, row.gpt_name) == (
        7,
        "prd-review",
        "claresia-dainese-prd-review",
    )
    assert "secret words" not in row.raw
    assert orjson.loads(row.raw)["log_file"] == {"id": "f1", "line": 3}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (line(author="assistant"), AssistantModel("conv-1", "gpt-4o")),
        (line(gpt_id="g-other"), LineSkipped.NOT_CLARESIA),
        (line(gpt_id="g-new"), LineSkipped.UNKNOWN_GPT),
        (line(gpt_id=None), LineSkipped.NO_GPT),
        (line(author="tool"), LineSkipped.OTHER_AUTHOR),
        (line(type="AUTH_LOG"), LineSkipped.OTHER_TYPE),
    ],
)
def test_what_is_not_an_invocation(event, expected):
    assert normalize(event) == expected


@pytest.mark.parametrize("broken", [{"event_id": None}, {"timestamp": "yesterday"}])
def test_a_claresia_user_message_without_id_or_time_is_malformed(broken):
    with pytest.raises(MalformedLine):
        normalize(line(**broken))


def test_file_lines_splits_across_chunks_hashes_every_byte_and_bounds_a_line():
    # given
    data = b'{"a": 1}\n' + b"x" * 50 + b"\n\n" + b'{"b": 2}'
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    digest = hashlib.sha256()

    # when
    read = list(file_lines(iter(chunks), digest, max_line=20))

    # then
    assert read == [(1, b'{"a": 1}'), (2, None), (3, b""), (4, b'{"b": 2}')]
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
