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
APP_LOG: 6 files of ~15 MB of tool calls in the real shape (a `request` line then a `response`
line per call, the request's `input._meta` with the user's location), a fifth of the calls to the
tenant's Claresia app, drained end to end the same way (one row per call, from its response
line), next to the same baseline method over the same APP_LOG files, and to the conversation
baseline of the same run.

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
from connectors.openai import chatgpt_admin
from connectors.sandbox.chatgpt_admin import (
    app_log_lines,
    gpt_object,
    message_author,
    plugin_skill_used_id,
)
from connectors.services import connector_connect, connector_test_connection
from skills.models import Skill
from telemetry.ingest import storage
from telemetry.ingest.rows import COLUMNS
from telemetry.ingest.sources.logs_platform.normalizer import (
    AppIdentity,
    AssistantModel,
    LogRow,
    normalize_app_event,
    normalize_log_event,
    skill_use_rows,
)
from telemetry.ingest.sources.logs_platform.poller import logs_poll
from telemetry.models import TelemetryEvent

FILES, FEW = 20, 2
APP_FILES = 6
BENCH_WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"  # the principal every line names
OTHER_APPS = (("Jira", "asdk_app_jira"), ("Slack", "asdk_app_slack"), ("Drive", "asdk_app_drive"))
PLUGIN_FILES = 5
FILE_BYTES = 15 * 1024 * 1024
CLARESIA_SHARE = 0.2
KEY = "sk-admin-bench-key"
SKILLS = ("incident-postmortem", "prd-review", "pipeline-hygiene")
OTHER_GPTS = ("g-travel", "g-legal", "g-brand", "g-sales")
CONTENT = "Could you summarise what went wrong in last night's deploy and who should follow up? "


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
        seed = n + (1000 if plugin else 0)
        moment = _write_file(path, BENCH_WORKSPACE, seed, moment, plugin=plugin)
        files.append((path, moment.isoformat()))
    return files


def _write_app_file(path: Path, seed: int, start: datetime) -> datetime:
    """One ~15 MB APP_LOG file of request + response pairs; returns its last timestamp."""
    rng = random.Random(seed)
    moment = start
    size = call = 0
    with path.open("wb") as handle:
        while size < FILE_BYTES:
            call += 1
            if rng.random() < CLARESIA_SHARE:
                app = {}
            else:
                name, app_id = rng.choice(OTHER_APPS)
                app = {"app_name": name, "app_id": app_id, "tool_name": "search"}
            for line in app_log_lines(
                principal=BENCH_WORKSPACE,
                calls=1,
                start=moment,
                seed=seed * 1_000_000 + call,
                failed={0} if call % 17 == 0 else (),
                **app,
            ):
                data = orjson.dumps(line) + b"\n"
                handle.write(data)
                size += len(data)
            moment += timedelta(milliseconds=50)
    return moment


def _prepare_app_logs(folder: Path, start: datetime) -> list[tuple[Path, str]]:
    files = []
    moment = start
    for n in range(APP_FILES):
        path = folder / f"app-log-{n:02d}.jsonl"
        moment = _write_app_file(path, 100 + n, moment)
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


def _serve(url: str, workspace: str, files: list[tuple[Path, str]], event_type: str) -> None:
    for path, end_time in files:
        _post(
            f"{url}/_sandbox/compliance/logs",
            {
                "principal": workspace,
                "path": str(path),
                "end_time": end_time,
                "event_type": event_type,
            },
        )


def _drain(
    url: str, slug: str, files: list[tuple[Path, str]], event_type: str = "CONVERSATION_MESSAGE"
) -> tuple[float, int, int]:
    """Serve `files` to a new tenant's workspace (the sandbox emptied first: every drain reads
    the same workspace, whose id the lines name) and drain them; (lines/s, lines, rows)."""
    _post(f"{url}/_sandbox/reset", {})
    workspace = BENCH_WORKSPACE
    tenant = _tenant(slug, workspace, url)
    _serve(url, workspace, files, event_type)
    lines = sum(_count_lines(path) for path, _ in files)
    started = time.perf_counter()
    outcome = logs_poll(
        tenant=tenant, principal=chatgpt_admin.Principal.workspace(workspace), max_files=1000
    )
    elapsed = time.perf_counter() - started
    assert outcome.files == len(files) and not outcome.error, str(outcome)
    return lines / elapsed, lines, outcome.stored


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _baseline(
    slug: str,
    files: list[tuple[Path, str]],
    event_type: str = "CONVERSATION_MESSAGE",
    plugin: bool = False,
) -> tuple[float, int]:
    """The same files from disk, orjson line by line, kept rows COPYed; (lines/s, rows).
    `plugin`: the rows are the messages' skill uses (`skill_use_rows`)."""
    tenant = Tenant.objects.create(slug=slug, name=slug)
    skills = {
        s: Skill.objects.create(tenant=tenant, skill_id=s, name=s, version="1", ir={}).pk
        for s in SKILLS
    }
    gpts = {f"g-{s}": (s, pk) for s, pk in skills.items()} | dict.fromkeys(OTHER_GPTS)
    ours = AppIdentity("asdk_app_claresia0hub", frozenset({"claresia-hub"}))

    def normalize(event, line_no, name):
        if event_type == "APP_LOG":
            return normalize_app_event(event, ours=ours, log_file=name, line_no=line_no)
        return normalize_log_event(
            event, tenant_slug=slug, gpts=gpts, log_file=name, line_no=line_no
        )

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
                    result = normalize(orjson.loads(line), line_no, path.name)
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
    # The sandbox serves its signed URLs over plain http on loopback (claresia/settings.py).
    settings.LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP = True
    try:
        files = _prepare(folder, datetime.now(UTC) - timedelta(days=10))
        total_mb = sum(path.stat().st_size for path, _ in files) / 1024 / 1024
        few_rate, _, _ = _drain(url, "few", files[:FEW])
        few_rss = _peak_rss_mb()
        rate, lines, stored = _drain(url, "bench", files)
        many_rss = _peak_rss_mb()
        baseline, kept = _baseline("baseline", files)
        assert stored == kept == TelemetryEvent.objects.filter(tenant__slug="bench").count(), (
            stored,
            kept,
        )
        app_files = _prepare_app_logs(folder, datetime.now(UTC) - timedelta(days=5))
        app_mb = sum(path.stat().st_size for path, _ in app_files) / 1024 / 1024
        app_rate, app_lines, app_stored = _drain(url, "apps", app_files, "APP_LOG")
        app_baseline, app_kept = _baseline("appbaseline", app_files, "APP_LOG")
        assert app_stored == app_kept, (app_stored, app_kept)
        plugin_files = _prepare(folder, datetime.now(UTC) - timedelta(days=3), PLUGIN_FILES, True)
        plugin_rate, plugin_lines, uses = _drain(url, "plugin", plugin_files)
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
        f"   APP_LOG: {APP_FILES} files, {app_mb:.0f} MB, {app_lines:,} lines "
        f"({app_lines // 2:,} calls), {app_stored:,} Claresia app calls kept"
    )
    print(f"   APP_LOG end to end:            {app_rate:9.0f} lines/s")
    print(f"   APP_LOG baseline (same method): {app_baseline:8.0f} lines/s")
    print(f"   APP_LOG end to end / its baseline:         {app_rate / app_baseline:9.2f}")
    print(f"   APP_LOG end to end / conversation baseline: {app_rate / baseline:8.2f}")
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
                "rss_mb": round(many_rss, 1),
                "app_log_lines_per_s": round(app_rate),
                "app_log_ratio": round(app_rate / app_baseline, 2),
                "skills_used_ratio": round(plugin_rate / baseline, 2),
            }
        )
    )
