"""A fleet of connected tenants polled by real Celery workers, one beat round at a time.

Each tenant is a real ChatGPT workspace as the Logs Platform serves it (the sandbox, its own
process): a GPT inventory naming the tenant's Claresia GPT, `CONV_FILES` files of
`CONVERSATION_MESSAGE` (every conversation in that GPT: a user message kept, an assistant reply
giving the model) and `APP_FILES` files of `APP_LOG` (calls to the tenant's Claresia app, each
kept). Its connector's last Test connection says what a real workspace's does: the Logs Platform
answers as the workspace, the seed's audit log refuses the key (so the poll reads the Logs
Platform only).

One round: beat's fan-out (`telemetry_poll_tenants_task`, the function beat calls) queues one poll
task per connected tenant on Redis; `WORKERS` Celery workers (prefork, `CONCURRENCY` children
each, as a deployment runs them) consume them against PostgreSQL, every request paced through
the shared Redis pacer. The round ends when the broker holds no queued and no unacknowledged
poll (tasks are acknowledged after they finish: `CELERY_TASK_ACKS_LATE`). Then a second round
with nothing new: the steady state of a fleet whose tenants are quiet.

Figures: round time against the poll interval, rows stored against the rows the files hold
(exactly: none lost, none twice), the API's 429s (the sandbox counts them), each worker's peak
RSS (its main process and children, VmHWM), the load average beside each; for FEW and MANY
tenants, to see how the cost grows.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from bench.bench_telemetry import _post, _start_sandbox
from claresia import celery_app
from claresia.models import Tenant
from connectors.models import Connector
from connectors.sandbox.chatgpt_admin import app_log_lines, conversation_lines, gpt_object
from connectors.services import connector_connect, connector_test_connection
from skills.models import Skill
from telemetry.models import TelemetryEvent
from telemetry.tasks import telemetry_poll_tenants_task

REPO = Path(__file__).resolve().parent.parent
# The figures asked for are 100 and 1,000 tenants; smaller counts make a quick trial run.
FEW = int(os.environ.get("BENCH_FLEET_FEW", "100"))
MANY = int(os.environ.get("BENCH_FLEET_MANY", "1000"))
WORKERS = 2
# Children per worker (prefork, the pool in which Celery's time limits work). A poll spends most
# of its time waiting (the API, the signed download, PostgreSQL: ~60 ms of CPU in ~360 ms at load
# 12, profiled in one process), so about four polls in flight per core keep a core busy; two
# workers × 4 children = 8 on this 2-core machine. Each child holds ~145 MB (the whole project),
# which bounds it from above.
CONCURRENCY = int(os.environ.get("BENCH_FLEET_CONCURRENCY", "4"))
CONV_FILES, CONVERSATIONS = 3, 20  # per tenant: 60 invocations
APP_FILES, CALLS = 2, 10  # per tenant: 20 app calls
PER_TENANT = CONV_FILES * CONVERSATIONS + APP_FILES * CALLS
KEY = "sk-admin-fleet-bench-key"
SKILL = "incident-postmortem"
BROKER_DB = int(os.environ.get("BENCH_FLEET_REDIS_DB", "8"))
ROUND_TIMEOUT = 900.0


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _workspace(n: int) -> str:
    return f"7a1e0000-0000-4000-8000-{n:012x}"


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - our loopback sandbox
        return json.load(response)


class Fleet:
    """The sandbox, the broker and the tenants of one benchmark."""

    def __init__(self, url: str, broker_url: str, hub_base: str) -> None:
        self.url, self.broker_url, self.hub_base = url, broker_url, hub_base
        self.checks: list[dict] | None = None
        self.start = datetime.now(UTC) - timedelta(hours=2)

    def tenants(self, first: int, count: int) -> list[Tenant]:
        """Tenants `first`… with their workspace, files and a tested connector; only they stay
        connected (beat's fan-out polls every connected tenant)."""
        Connector.objects.all().delete()
        made = []
        for n in range(first, first + count):
            slug = f"fleet{n:05d}"
            workspace = _workspace(n)
            tenant = Tenant.objects.create(slug=slug, name=slug)
            Skill.objects.create(
                tenant=tenant, skill_id=SKILL, name=SKILL, version="1.0.0", ir={"id": SKILL}
            )
            gpt_id = f"g-fleet-{n}"
            _post(
                f"{self.url}/_sandbox/compliance/gpts/{workspace}",
                {"gpts": [gpt_object(gpt_id=gpt_id, name=f"claresia-{slug}-{SKILL}")]},
            )
            self._files(n, workspace, gpt_id)
            connector = connector_connect(
                tenant=tenant, organization_id=f"org-{slug}", api_key=KEY, workspace_id=workspace
            )
            self._tested(connector, workspace)
            made.append(tenant)
        return made

    def _files(self, n: int, workspace: str, gpt_id: str) -> None:
        moment = self.start
        for f in range(CONV_FILES):
            lines = conversation_lines(
                principal=workspace,
                conversations=CONVERSATIONS,
                gpt_ids=[gpt_id],
                start=moment,
                seed=n * 100 + f,
            )
            moment += timedelta(minutes=5)
            self._add(workspace, "CONVERSATION_MESSAGE", lines, moment)
        for f in range(APP_FILES):
            lines = app_log_lines(
                principal=workspace,
                calls=CALLS,
                start=moment,
                seed=n * 100 + f,
            )
            moment += timedelta(minutes=5)
            self._add(workspace, "APP_LOG", lines, moment)

    def _add(self, workspace: str, event_type: str, lines: list[dict], end: datetime) -> None:
        _post(
            f"{self.url}/_sandbox/compliance/logs",
            {
                "principal": workspace,
                "event_type": event_type,
                "lines": lines,
                "end_time": end.isoformat().replace("+00:00", "Z"),
            },
        )

    def _tested(self, connector: Connector, workspace: str) -> None:
        """The first connector runs Test connection against the sandbox; the others take its
        checklist with their own workspace (the same answers, without 4 requests each)."""
        if self.checks is None:
            connector_test_connection(connector=connector)
            self.checks = connector.connection_checks
            self.workspace = workspace
            assert connector.status == Connector.Status.CONNECTED, connector.last_error
            return
        text = json.dumps(self.checks).replace(self.workspace, workspace)
        Connector.objects.filter(pk=connector.pk).update(
            connection_checks=json.loads(text), status=Connector.Status.CONNECTED
        )

    def stats(self) -> dict:
        return _get(f"{self.url}/_sandbox/compliance/stats")


class Workers:
    """`WORKERS` Celery worker processes on the broker, as `celery -A claresia worker` runs."""

    def __init__(self, env: dict, folder: Path) -> None:
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(WORKERS):
            log = folder / f"worker{index}.log"
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - our own Celery app
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "claresia",
                        "worker",
                        "--pool",
                        "prefork",
                        "--concurrency",
                        str(CONCURRENCY),
                        "--hostname",
                        f"fleet{index}@%h",
                        "--loglevel",
                        "INFO",
                        "--without-heartbeat",
                        "--without-gossip",
                        "--without-mingle",
                        "--logfile",
                        str(log),
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 120
        while not all(log.exists() and "ready." in log.read_text() for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError("a worker did not start: " + self.tail())
            time.sleep(0.2)

    def tail(self) -> str:
        return "\n".join(log.read_text()[-2000:] for log in self.logs if log.exists())

    def pids(self) -> list[list[int]]:
        """Per worker: its main process and its pool's children."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
        return [[p.pid, *children.get(p.pid, [])] for p in self.processes]

    def peak_rss_mb(self) -> list[tuple[float, float, int]]:
        """Per worker: (its processes' peak RSS together, the largest one's, children)."""
        figures = []
        for pids in self.pids():
            peaks = [_vm_hwm_mb(pid) for pid in pids]
            figures.append((sum(peaks), max(peaks), len(pids) - 1))
        return figures

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database_backends(name: str) -> list[int]:
    """The PostgreSQL backends serving database `name` (their process title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {name} " in title:
                pids.append(int(entry.name))
    return pids


class Cpu:
    """CPU seconds used by the workers, PostgreSQL (this database's backends) and the sandbox:
    a measure of cost that the machine's other users do not change, unlike wall time."""

    def __init__(self, workers: "Workers", sandbox_pid: int, database: str) -> None:
        self.workers, self.sandbox_pid, self.database = workers, sandbox_pid, database

    def sample(self) -> dict[str, dict[int, float]]:
        return {
            "workers": {pid: _cpu(pid) for pids in self.workers.pids() for pid in pids},
            "postgresql": {pid: _cpu(pid) for pid in _database_backends(self.database)},
            "sandbox": {self.sandbox_pid: _cpu(self.sandbox_pid)},
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        return {
            part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in after[part].items())
            for part in after
        }


def _round(broker: redis.Redis) -> float:
    """Beat's fan-out, then wait until the broker holds no queued and no unacknowledged poll."""
    started = time.perf_counter()
    telemetry_poll_tenants_task()
    deadline = time.monotonic() + ROUND_TIMEOUT
    while broker.llen("celery") or broker.hlen("unacked"):
        if time.monotonic() > deadline:
            raise RuntimeError("the round did not end within the timeout")
        time.sleep(0.05)
    return time.perf_counter() - started


def _stored(tenants: list[Tenant]) -> tuple[int, int]:
    """(rows of these tenants, distinct source event ids among them)."""
    rows = TelemetryEvent.objects.filter(tenant__in=tenants)
    return rows.count(), rows.values("tenant_id", "source", "source_event_id").distinct().count()


def _measure(fleet: Fleet, env: dict, folder: Path, broker: redis.Redis, first: int, count: int):
    setup_started = time.perf_counter()
    tenants = fleet.tenants(first, count)
    setup_s = time.perf_counter() - setup_started
    connection.close()  # the workers' connections, not ours, during the round
    workers = Workers(env, folder / f"n{count}")
    cpu = Cpu(workers, fleet.sandbox_pid, connection.settings_dict["NAME"])
    try:
        before, cpu_before = fleet.stats(), cpu.sample()
        round_s = _round(broker)
        load, cpu_first = _load(), cpu.sample()
        after_first = fleet.stats()
        stored, distinct = _stored(tenants)
        connection.close()
        cpu_between = cpu.sample()
        quiet_s = _round(broker)
        quiet_load, cpu_quiet = _load(), cpu.sample()
        after_quiet = fleet.stats()
        stored_after_quiet, _ = _stored(tenants)
        rss = workers.peak_rss_mb()
    finally:
        workers.stop()
    expected = count * PER_TENANT
    result = {
        "tenants": count,
        "setup_s": setup_s,
        "round_s": round_s,
        "load": load,
        "stored": stored,
        "distinct": distinct,
        "expected": expected,
        "requests": after_first["answered"] - before["answered"],
        "rate_limited": after_first["rate_limited"] - before["rate_limited"],
        "quiet_s": quiet_s,
        "quiet_load": quiet_load,
        "quiet_requests": after_quiet["answered"] - after_first["answered"],
        "quiet_rate_limited": after_quiet["rate_limited"] - after_first["rate_limited"],
        "stored_after_quiet": stored_after_quiet,
        "rss": rss,
        "cpu": Cpu.spent(cpu_before, cpu_first),
        "quiet_cpu": Cpu.spent(cpu_between, cpu_quiet),
    }
    _report(result)
    return result


def _report(r: dict) -> None:
    interval = settings.TELEMETRY_POLL_INTERVAL
    lost = r["expected"] - r["stored"]
    print(f"   -- {r['tenants']} tenants ({r['setup_s']:.0f} s to set up) --")
    print(
        f"   round with new files: {r['round_s']:7.1f} s   ({r['round_s'] / interval:.2f} of the "
        f"{interval} s interval)   load {r['load']}"
    )
    print(
        f"   rows stored {r['stored']:,} / expected {r['expected']:,}   (lost {lost}, twice "
        f"{r['stored'] - r['distinct']})   API requests {r['requests']:,}, 429s {r['rate_limited']}"
    )
    print(
        f"   quiet round (nothing new): {r['quiet_s']:5.1f} s ({r['quiet_s'] / interval:.2f} of "
        f"the interval), {r['quiet_requests']:,} requests, 429s {r['quiet_rate_limited']}, rows "
        f"after it {r['stored_after_quiet']:,}   load {r['quiet_load']}"
    )
    for label, key in (("round with new files", "cpu"), ("quiet round", "quiet_cpu")):
        spent = r[key]
        per_tenant = {part: seconds / r["tenants"] * 1000 for part, seconds in spent.items()}
        print(
            f"   CPU, {label}: workers {spent['workers']:.1f} s ({per_tenant['workers']:.0f} ms a "
            f"tenant), PostgreSQL {spent['postgresql']:.1f} s ({per_tenant['postgresql']:.0f} ms), "
            f"sandbox {spent['sandbox']:.1f} s ({per_tenant['sandbox']:.0f} ms)"
        )
    for index, (total, largest, children) in enumerate(r["rss"]):
        print(
            f"   worker {index}: peak RSS {total:6.1f} MB over {children} children and its main "
            f"process (largest {largest:5.1f} MB)"
        )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="claresia-bench-fleet-"))
    sandbox, url = _start_sandbox()
    broker_url = f"redis://127.0.0.1:6379/{BROKER_DB}"
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()
    settings.CHATGPT_ADMIN_API_BASE = f"{url}/v1"
    settings.OPENAI_API_BASE = f"{url}/v1"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": broker_url,  # the shared pacer's Redis, as in production
        "CHATGPT_ADMIN_API_BASE": f"{url}/v1",
        "OPENAI_API_BASE": f"{url}/v1",
        "CONN_MAX_AGE": "600",  # README → Running in production
        "LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP": "true",  # the sandbox serves its files over http
        "LOG_LEVEL": "WARNING",
        "DEBUG": "true",
    }
    conf = celery_app.conf
    conf.task_always_eager, conf.broker_url = False, broker_url
    fleet = Fleet(url, broker_url, settings.CLARESIA_HUB_BASE_URL)
    fleet.sandbox_pid = sandbox.pid
    print(
        f"   {WORKERS} workers × {CONCURRENCY} children (prefork); per tenant {CONV_FILES} "
        f"CONVERSATION_MESSAGE + {APP_FILES} APP_LOG files, {PER_TENANT} rows; "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    try:
        few = _measure(fleet, env, folder, broker, 0, FEW)
        many = _measure(fleet, env, folder, broker, FEW, MANY)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        broker.flushdb()
        shutil.rmtree(folder, ignore_errors=True)
    per_tenant_few = few["round_s"] / FEW
    per_tenant_many = many["round_s"] / MANY
    print(
        f"   cost per tenant polled: {per_tenant_few * 1000:.0f} ms at {FEW}, "
        f"{per_tenant_many * 1000:.0f} ms at {MANY} (round time / tenants, "
        f"{WORKERS * CONCURRENCY} polls at once)"
    )
    print(
        json.dumps(
            {
                "tenants": MANY,
                "round_s": round(many["round_s"], 1),
                "interval_s": settings.TELEMETRY_POLL_INTERVAL,
                "stored": many["stored"],
                "expected": many["expected"],
                "rate_limited": many["rate_limited"],
            }
        )
    )
