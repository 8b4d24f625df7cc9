"""The Compliance Logs Platform source end to end, next to a baseline of the same files.

Files: 20 `CONVERSATION_MESSAGE` JSON Lines files of ~15 MB (the contract's assumed file cap),
a fifth of their messages in the tenant's Claresia GPTs, written to a temporary folder and
served by the OpenAI sandbox (its own process) through the real surface: list, 307 to a signed
URL, the bytes.
End to end: `logs_poll` drains them over HTTP: listed, downloaded through the 307, hashed and
checked, streamed line by line, normalized, kept rows inserted, the cursor committed per file.
Baseline, measured in the same run: the same files read from disk with orjson line by line, the
kept rows (the same normalizer's) written with binary COPY, no HTTP, no checksum, no cursor.
Memory: the process's peak RSS after draining 2 files and after 20; flat = streamed.
Plugin skills (`skills_used`): 5 more files of the same size where a fifth of the conversations
used a plugin skill (the assistant's `message.author.skills_used`, no GPT), drained end to end
for a tenant whose ids are not mapped yet (every use kept as its own row), against the baseline
above and against the same baseline over these files (`skill_use_rows` instead of the GPT
normalizer).
"""

import json
import os
import random
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
from django.db import connection

from bench.bench_telemetry import _post, _start_sandbox
from claresia.models import Tenant
from connectors.openai import compliance
from connectors.sandbox.compliance import gpt_object, message_author, plugin_skill_used_id
from connectors.services import connector_connect, connector_test_connection
from skills.models import Skill
from telemetry.ingest import storage
from telemetry.ingest.compliance_logs import logs_poll
from telemetry.ingest.logs_normalizer import (
    AssistantModel,
    LogRow,
    normalize_log_event,
    skill_use_rows,
)
from telemetry.ingest.normalizer import COLUMNS
from telemetry.models import TelemetryEvent

FILES, FEW = 20, 2
PLUGIN_FILES = 5
FILE_BYTES = 15 * 1024 * 1024
CLARESIA_SHARE = 0.2
KEY = "sk-admin-bench-key"
SKILLS = ("incident-postmortem", "prd-review", "pipeline-hygiene")
OTHER_GPTS = ("g-travel", "g-legal", "g-brand", "g-sales")
CONTENT = "Could you summarise what went wrong in last night's deploy and who should follow up? "


def _workspace(n: int) -> str:
    return f"3f1e8a4c-5b6d-4e7f-8a9b-{n:012x}"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_file(
    path: Path, workspace: str, seed: int, start: datetime, plugin: bool = False
) -> datetime:
    """One ~15 MB file of alternating user / assistant messages; returns its last timestamp.
    `plugin`: the tenant's conversations used a plugin skill (`skills_used`), not a GPT."""
    rng = random.Random(seed)
    moment = start
    size = 0
    conversation = 0
    with path.open("wb") as handle:
        while size < FILE_BYTES:
            conversation += 1
            ours = rng.random() < CLARESIA_SHARE
            skill = rng.choice(SKILLS)
            gpt_id = (None if plugin else f"g-{skill}") if ours else rng.choice(OTHER_GPTS)
            used = [plugin_skill_used_id("bench", skill)] if plugin and ours else []
            for m, author in enumerate(("user", "assistant")):
                line = {
                    "event_id": f"evt-{seed}-{conversation}-{m}",
                    "type": "CONVERSATION_MESSAGE",
                    "timestamp": moment.isoformat().replace("+00:00", "Z"),
                    "principal": {"id": workspace, "type": "workspace"},
                    "actor": {
                        "type": "ACCOUNT_USER",
                        "user_id": f"user-{conversation % 50}",
                        "user_email": f"user{conversation % 50}@example.com",
                    },
                    "conversation": {
                        "id": f"conv-{seed}-{conversation}",
                        "gpt_id": gpt_id,
                        "project_id": None,
                    },
                    "message": {
                        "id": f"msg-{seed}-{conversation}-{m}",
                        "author": message_author(author, model="gpt-4o", skills_used=used),
                        "content": {"content_type": "text", "parts": [CONTENT * 4]},
                    },
                }
                data = orjson.dumps(line) + b"\n"
                handle.write(data)
                size += len(data)
                moment += timedelta(milliseconds=50)
    return moment


def _prepare(
    folder: Path, start: datetime, count: int = FILES, plugin: bool = False
) -> list[tuple[Path, str]]:
    files = []
    moment = start
    for n in range(count):
        path = folder / f"{'plugin' if plugin else 'conversation'}-{n:02d}.jsonl"
        moment = _write_file(path, "WS", n + (1000 if plugin else 0), moment, plugin=plugin)
        files.append((path, moment.isoformat()))
    return files


def _tenant(slug: str, workspace: str, url: str) -> Tenant:
    tenant = Tenant.objects.create(slug=slug, name=slug)
    for skill_id in SKILLS:
        Skill.objects.create(
            tenant=tenant, skill_id=skill_id, name=skill_id, version="1.0.0", ir={"id": skill_id}
        )
    gpts = [gpt_object(gpt_id=f"g-{s}", name=f"claresia-{slug}-{s}") for s in SKILLS]
    gpts += [gpt_object(gpt_id=g, name=g) for g in OTHER_GPTS]
    _post(f"{url}/_sandbox/compliance/gpts/{workspace}", {"gpts": gpts})
    connector = connector_connect(
        tenant=tenant, organization_id=f"org-{slug}", api_key=KEY, workspace_id=workspace
    )
    connector_test_connection(connector=connector)
    return tenant


def _serve(url: str, workspace: str, files: list[tuple[Path, str]]) -> None:
    for path, end_time in files:
        _post(
            f"{url}/_sandbox/compliance/logs",
            {"principal": workspace, "path": str(path), "end_time": end_time},
        )


def _drain(url: str, slug: str, n: int, files: list[tuple[Path, str]]) -> tuple[float, int, int]:
    """Serve `files` to a new tenant's workspace and drain them; (lines/s, lines, rows)."""
    workspace = _workspace(n)
    tenant = _tenant(slug, workspace, url)
    _serve(url, workspace, files)
    lines = sum(_count_lines(path) for path, _ in files)
    started = time.perf_counter()
    outcome = logs_poll(
        tenant=tenant, principal=compliance.Principal.workspace(workspace), max_files=1000
    )
    elapsed = time.perf_counter() - started
    assert outcome.files == len(files) and not outcome.error, str(outcome)
    return lines / elapsed, lines, outcome.stored


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _baseline(slug: str, files: list[tuple[Path, str]], plugin: bool = False) -> tuple[float, int]:
    """The same files from disk, orjson line by line, kept rows COPYed; (lines/s, rows).
    `plugin`: the rows are the messages' skill uses (`skill_use_rows`)."""
    tenant = Tenant.objects.create(slug=slug, name=slug)
    skills = {
        s: Skill.objects.create(tenant=tenant, skill_id=s, name=s, version="1", ir={}).pk
        for s in SKILLS
    }
    gpts = {f"g-{s}": (s, pk) for s, pk in skills.items()} | dict.fromkeys(OTHER_GPTS)
    columns = ", ".join(COLUMNS)
    db = connection.settings_dict
    lines = rows = 0
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    ) as conn:
        conn.execute(
            "CREATE TEMP TABLE load ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {storage._LOAD_COLUMNS} FROM fn_telemetry_event WITH NO DATA"
        )
        conn.commit()
        started = time.perf_counter()
        for path, _ in files:
            kept: list[LogRow] = []
            with path.open("rb") as handle:
                for line_no, line in enumerate(handle, 1):
                    lines += 1
                    if plugin:
                        kept += skill_use_rows(
                            orjson.loads(line),
                            plugin_skills={},
                            log_file=path.name,
                            line_no=line_no,
                        )
                        continue
                    result = normalize_log_event(
                        orjson.loads(line),
                        tenant_slug=slug,
                        gpts=gpts,
                        log_file=path.name,
                        line_no=line_no,
                    )
                    if isinstance(result, LogRow):
                        kept.append(result)
                    elif isinstance(result, AssistantModel):
                        pass
            with conn.transaction(), conn.cursor() as cursor:
                with cursor.copy(f"COPY load ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(storage._LOAD_TYPES)
                    for row in kept:
                        copy.write_row((tenant.pk, *row))
                cursor.execute(
                    f"INSERT INTO fn_telemetry_event ({columns}) "  # noqa: S608
                    f"SELECT {storage._INSERT_COLUMNS} FROM load "
                    "ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING"
                )
            rows += len(kept)
        elapsed = time.perf_counter() - started
    return lines / elapsed, rows


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="claresia-bench-logs-"))
    sandbox, url = _start_sandbox()
    from django.conf import settings

    settings.CHATGPT_ADMIN_API_BASE = f"{url}/v1"
    settings.OPENAI_API_BASE = f"{url}/v1"
    settings.TELEMETRY_INITIAL_LOOKBACK = 20 * 86_400
    try:
        files = _prepare(folder, datetime.now(UTC) - timedelta(days=10))
        total_mb = sum(path.stat().st_size for path, _ in files) / 1024 / 1024
        few_rate, _, _ = _drain(url, "few", 1, files[:FEW])
        few_rss = _peak_rss_mb()
        rate, lines, stored = _drain(url, "bench", 2, files)
        many_rss = _peak_rss_mb()
        baseline, kept = _baseline("baseline", files)
        assert stored == kept == TelemetryEvent.objects.filter(tenant__slug="bench").count(), (
            stored,
            kept,
        )
        plugin_files = _prepare(folder, datetime.now(UTC) - timedelta(days=3), PLUGIN_FILES, True)
        plugin_rate, plugin_lines, uses = _drain(url, "plugin", 3, plugin_files)
        plugin_baseline, plugin_kept = _baseline("plugin-baseline", plugin_files, plugin=True)
        assert (
            uses
            == plugin_kept
            == TelemetryEvent.objects.filter(
                tenant__slug="plugin", event_type=TelemetryEvent.EventType.UNMAPPED
            ).count()
        ), (uses, plugin_kept)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"   {FILES} files, {total_mb:.0f} MB, {lines:,} lines, {stored:,} invocations kept")
    print(f"   end to end, {FEW} files:   {few_rate:9.0f} lines/s")
    print(f"   end to end, {FILES} files:  {rate:9.0f} lines/s")
    print(f"   baseline (disk, orjson, COPY): {baseline:9.0f} lines/s")
    print(f"   ratio end to end / baseline:  {rate / baseline:9.2f}   (goal ≥ 0.5)")
    print(f"   load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"   peak RSS after {FEW} files:  {few_rss:6.1f} MB")
    print(f"   peak RSS after {FILES} files: {many_rss:6.1f} MB   (goal < 200, flat = streamed)")
    print(
        f"   skills_used: {PLUGIN_FILES} files, {plugin_lines:,} lines, "
        f"{uses:,} plugin skill uses kept"
    )
    print(f"   skills_used end to end:        {plugin_rate:9.0f} lines/s")
    print(f"   skills_used baseline (disk):   {plugin_baseline:9.0f} lines/s")
    print(f"   ratio skills_used / baseline:  {plugin_rate / baseline:9.2f}   (goal ≥ 0.5)")
    print(f"   ratio skills_used / its own baseline: {plugin_rate / plugin_baseline:6.2f}")
    print(f"   load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(
        json.dumps(
            {
                "ratio": round(rate / baseline, 2),
                "skills_used_ratio": round(plugin_rate / baseline, 2),
                "rss_mb": round(many_rss, 1),
            }
        )
    )
