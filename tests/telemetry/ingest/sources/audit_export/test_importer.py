"""The per-user audit export fallback: CSV or JSONL into the same table, idempotently."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from telemetry.ingest.sources.audit_export.importer import AuditExportError, audit_export_import
from telemetry.models import TelemetryEvent
from tests.telemetry.helpers import event

CSV_HEADER = "id,type,effective_at,gpt_name,actor_email,model,input_tokens,output_tokens\n"


def jsonl(*events) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def import_bytes(tenant, content: bytes, filename: str):
    return audit_export_import(tenant=tenant, stream=io.BytesIO(content), filename=filename)


def test_a_jsonl_export_is_stored_with_source_audit_export(tenant):
    # given
    content = jsonl(event("audit_log-1", 1764068400), event("audit_log-2", 1764068460))

    # when
    report = import_bytes(tenant, content, "export.jsonl")

    # then
    assert report.stored == 2
    assert set(TelemetryEvent.objects.values_list("source_event_id", "source")) == {
        ("audit_log-1", "audit_export"),
        ("audit_log-2", "audit_export"),
    }


def test_a_csv_export_is_stored_through_the_same_normalizer(tenant):
    # given
    content = (
        CSV_HEADER + "audit_log-9,gpt.invoked,2025-11-25T11:00:00Z,claresia-dainese-prd-review,"
        "ana@dainese.example,gpt-4o,1000,100\n"
    ).encode()

    # when
    report = import_bytes(tenant, content, "export.csv")

    # then
    row = TelemetryEvent.objects.get()
    assert report.stored == 1
    assert (row.skill_ref, row.actor_email, row.input_tokens, str(row.cost_usd)) == (
        "prd-review",
        "ana@dainese.example",
        1000,
        "0.003500",
    )
    assert int(row.occurred_at.timestamp()) == 1764068400


def test_importing_the_same_export_twice_stores_nothing_new(tenant):
    # given
    content = jsonl(event("audit_log-1", 1764068400), event("audit_log-2", 1764068460))
    import_bytes(tenant, content, "export.jsonl")

    # when
    again = import_bytes(tenant, content, "export.jsonl")

    # then
    assert (again.stored, again.duplicates) == (0, 2)
    assert TelemetryEvent.objects.count() == 2


def test_a_malformed_jsonl_line_is_reported_by_number_and_the_rest_imported(tenant):
    # given: line 2 is cut off, line 3 has no time
    content = (
        jsonl(event("audit_log-1", 1764068400))
        + b'{"id": "audit_log-2", "type": "gpt.inv\n'
        + jsonl({**event("audit_log-3", 0), "effective_at": None}, event("audit_log-4", 1764068460))
    )

    # when
    report = import_bytes(tenant, content, "export.jsonl")

    # then
    assert report.errors == [
        (2, "not valid JSON"),
        (3, "audit event audit_log-3 has no effective_at (unix seconds)"),
    ]
    assert sorted(TelemetryEvent.objects.values_list("source_event_id", flat=True)) == [
        "audit_log-1",
        "audit_log-4",
    ]


def test_a_malformed_csv_row_is_reported_by_line_number_and_the_rest_imported(tenant):
    # given
    content = (
        CSV_HEADER
        + "audit_log-1,gpt.invoked,1764068400,claresia-dainese-prd-review,,,,\n"
        + "audit_log-2,gpt.invoked,last tuesday,claresia-dainese-prd-review,,,,\n"
        + "audit_log-3,gpt.invoked,1764068460,claresia-dainese-prd-review,,,many,\n"
        + "audit_log-4,gpt.invoked,1764068500,claresia-dainese-prd-review,,,,\n"
    ).encode()

    # when
    report = import_bytes(tenant, content, "export.csv")

    # then
    assert [line for line, _ in report.errors] == [3, 4]
    assert "last tuesday" in report.errors[0][1]
    assert report.stored == 2


def test_other_gpts_in_the_export_are_skipped_and_counted(tenant):
    # given
    content = jsonl(
        event("audit_log-1", 1764068400),
        event("audit_log-2", 1764068400, gpt="Travel Helper"),
        event("audit_log-3", 1764068400, gpt="claresia-othercorp-prd-review"),
    )

    # when
    report = import_bytes(tenant, content, "export.jsonl")

    # then
    assert (report.stored, report.skipped) == (1, 2)


def test_a_csv_without_the_needed_columns_is_refused_whole(tenant):
    # given
    content = b"when,who\n2025-11-25,ana\n"

    # when / then
    with pytest.raises(AuditExportError, match="lacks id, type, effective_at, gpt_name"):
        import_bytes(tenant, content, "export.csv")
    assert TelemetryEvent.objects.count() == 0


def test_the_format_is_recognised_without_an_extension(tenant):
    # given
    content = jsonl(event("audit_log-1", 1764068400))

    # when
    report = import_bytes(tenant, content, "export")

    # then
    assert report.stored == 1


def test_the_command_imports_and_reports_malformed_lines_on_stderr(tenant, tmp_path):
    # given
    path = tmp_path / "export.jsonl"
    path.write_bytes(jsonl(event("audit_log-1", 1764068400)) + b"not json\n")
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("import_audit_export", "--tenant", "dainese", str(path), stdout=out, stderr=err)

    # then
    assert "1 stored" in out.getvalue()
    assert err.getvalue() == f"{path}:2: not valid JSON\n"


def test_the_command_refuses_an_unknown_tenant(db, tmp_path):
    # given
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"")

    # when / then
    with pytest.raises(CommandError, match="no tenant with slug 'nobody'"):
        call_command("import_audit_export", "--tenant", "nobody", str(path))


def test_the_command_refuses_a_missing_file(tenant, tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.jsonl"):
        call_command("import_audit_export", "--tenant", "dainese", str(tmp_path / "missing.jsonl"))


def _deep(levels: int) -> bytes:
    return b'{"id": "audit_log-deep", "x": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize(
    ("name", "bad_line"),
    [
        ("a time no calendar holds", json.dumps(event("audit_log-x", 10**20)).encode()),
        (
            "token counts of 2**70",
            json.dumps(
                event("audit_log-x", 1764068400)
                | {
                    "gpt.invoked": {
                        "gpt_name": "claresia-dainese-prd-review",
                        "usage": {"input_tokens": 2**70, "output_tokens": 3e9},
                    }
                }
            ).encode(),
        ),
        ("a NUL", json.dumps(event("audit_log-\x00x", 1764068400)).encode()),
        ("a line nested 100,000 deep", _deep(100_000)),
    ],
)
def test_a_hostile_line_is_reported_or_normalized_and_the_rest_imported(tenant, name, bad_line):
    # given: a bad line between two good ones
    content = (
        jsonl(event("audit_log-1", 1764068400))
        + bad_line
        + b"\n"
        + jsonl(event("audit_log-2", 1764068460))
    )

    # when
    report = import_bytes(tenant, content, "export.jsonl")

    # then: the good lines are stored; the bad one is stored clean or reported with its line
    stored = set(TelemetryEvent.objects.values_list("source_event_id", flat=True))
    assert {"audit_log-1", "audit_log-2"} <= stored
    assert not any("\x00" in event_id for event_id in stored)
    assert report.records == 3
    assert report.stored + report.error_count == 3
    assert all(line == 2 for line, _ in report.errors)


def test_an_overlong_line_is_reported_without_reading_it_into_memory(tenant):
    # given: a 3 MB line between two good ones
    content = (
        jsonl(event("audit_log-1", 1764068400))
        + b'{"id": "'
        + b"x" * 3_000_000
        + b'"}\n'
        + jsonl(event("audit_log-2", 1764068460))
    )

    # when
    report = import_bytes(tenant, content, "export.jsonl")

    # then
    assert report.stored == 2
    assert report.errors == [(2, "the line is longer than 1 MB")]
