"""POST /hub/v1/records under gunicorn on PostgreSQL, next to a bare Django view doing one INSERT.

Both are served by the same gunicorn, configured as gunicorn.conf.py configures production
(sync workers, 2 × cores + 1 of them) plus persistent database connections, and loaded in the
same run, for the same time, by a separate process on loopback (bench/loadgen.py). Sync workers
take each request from the shared listen queue, so the load spreads evenly; gthread workers keep
a keep-alive connection for its whole life, and how the connections happened to spread moved a
round's figures by a third (BENCH_HUB_WORKER_CLASS=gthread to compare).
The ratio shows what authentication, throttling, validation, pricing, idempotency and the footer
cost per record. Afterwards the rows are counted: every 201 must be a row (no lost records).
Targets (README, hub benchmark): ≥ 1,000 req/s at p99 < 50 ms, ratio ≥ 0.6, zero lost records."""

import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

SECONDS = float(os.environ.get("BENCH_HUB_SECONDS", "8"))
WARMUP_SECONDS = 2.0
WORKERS = int(os.environ.get("BENCH_HUB_WORKERS", 2 * (os.cpu_count() or 1) + 1))
WORKER_CLASS = os.environ.get("BENCH_HUB_WORKER_CLASS", "sync")
THREADS = int(os.environ.get("BENCH_HUB_THREADS", "2"))  # gthread only
LOAD_PROCESSES = int(os.environ.get("BENCH_HUB_LOAD_PROCESSES", "1"))
CONNECTIONS = int(os.environ.get("BENCH_HUB_CONNECTIONS", "8"))
ROUNDS = int(os.environ.get("BENCH_HUB_ROUNDS", "3"))


def _setup(pepper: str) -> str:
    from django.conf import settings
    from django.db import connection

    from bench.hub_urls import BARE_TABLE_SQL
    from claresia.services import tenant_create
    from skills.models import Skill
    from telemetry.hub.services import hub_token_issue

    tenant = tenant_create(slug="bench", name="Bench")
    Skill.objects.create(
        tenant=tenant,
        skill_id="incident-postmortem",
        name="Incident Postmortem",
        version="1.0.0",
        description="Writes a postmortem.",
        ir={"instructions": "Write a blameless postmortem."},
    )
    settings.HUB_TOKEN_PEPPER = pepper
    token = hub_token_issue(tenant=tenant).plaintext
    with connection.cursor() as cursor:
        cursor.execute(BARE_TABLE_SQL)
    connection.close()
    return token


def _rows() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM telemetry_hubrecord")
        hub = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM bench_bare_record")
        bare = cursor.fetchone()[0]
    return hub, bare


def _start_gunicorn(
    pepper: str, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, socket.socket, int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # a free port, held open and handed to gunicorn
    listener.listen(1024)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.hub_settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HUB_TOKEN_PEPPER": pepper,
        # One token carries the whole load here: the throttle still counts every request.
        "HUB_TOKEN_RATE": "100000000/min",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on loopback: no redirect to https (production sits behind TLS).
        "SECURE_SSL_REDIRECT": "false",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "claresia.wsgi:application"]
    command += ["--bind", f"fd://{listener.fileno()}", "--workers", str(WORKERS)]
    command += ["--worker-class", WORKER_CLASS]
    if WORKER_CLASS == "gthread":
        command += ["--threads", str(THREADS)]
    command += ["--config", str(Path(__file__).with_name("gunicorn_bench.conf.py"))]
    command += ["--keep-alive", "30"]  # gthread only: sync workers close after each answer
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        env=env,
        pass_fds=[listener.fileno()],
    )
    # Five workers importing Django on a shared 2-core machine can take longer than 30 s.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server, listener, port
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 120 s")


def _line(name: str, result: dict) -> str:
    statuses = ", ".join(f"{code}×{count}" for code, count in sorted(result["statuses"].items()))
    return (
        f"   {name:<22}{result['rps']:8.0f} req/s   p50 {result['p50']:6.1f} ms   "
        f"p99 {result['p99']:6.1f} ms   errors {result['errors']}   ({statuses})"
    )


def main() -> None:
    from bench.loadgen import run_load

    pepper = secrets.token_hex(32)
    token = _setup(pepper)
    server, listener, port = _start_gunicorn(pepper)
    load = {"port": port, "token": token, "processes": LOAD_PROCESSES, "connections": CONNECTIONS}
    rounds: list[tuple[dict, dict, float]] = []
    try:
        run_load(path="/bench/bare", seconds=WARMUP_SECONDS, **load)
        run_load(path="/hub/v1/records", seconds=WARMUP_SECONDS, **load)
        hub_before, bare_before = _rows()
        # Alternating rounds on a shared machine: other work comes and goes, so each round
        # measures both views under the same load and the best round of each is reported.
        for _ in range(ROUNDS):
            hub = run_load(path="/hub/v1/records", seconds=SECONDS, **load)
            bare = run_load(path="/bench/bare", seconds=SECONDS, **load)
            rounds.append((hub, bare, os.getloadavg()[0]))
        hub_after, bare_after = _rows()
    finally:
        server.terminate()
        server.wait(timeout=30)
        listener.close()
    workers = f"{WORKERS} {WORKER_CLASS} workers"
    if WORKER_CLASS == "gthread":
        workers += f" × {THREADS} threads"
    print(
        f"   gunicorn {workers}; load: {LOAD_PROCESSES} process(es) × {CONNECTIONS} "
        f"connections, {SECONDS:.0f} s each, {ROUNDS} alternating rounds"
    )
    for index, (hub, bare, load_average) in enumerate(rounds, 1):
        print(f"   round {index} (load average {load_average:.2f}):")
        print(_line("bare INSERT view:", bare))
        print(_line("POST /hub/v1/records:", hub))
        print(f"   ratio {hub['rps'] / bare['rps']:.2f} (hub / bare req/s, same round)")
    ratios = sorted(hub["rps"] / bare["rps"] for hub, bare, _ in rounds)
    print(f"   median same-round ratio {statistics.median(ratios):.2f} (hub / bare)")
    best_hub = max((hub for hub, _, _ in rounds), key=lambda result: result["rps"])
    best_bare = max((bare for _, bare, _ in rounds), key=lambda result: result["rps"])
    print("   best of the rounds:")
    print(_line("bare INSERT view:", best_bare))
    print(_line("POST /hub/v1/records:", best_hub))
    print(f"   ratio {best_hub['rps'] / best_bare['rps']:.2f} (best hub / best bare req/s)")
    created = sum(hub["statuses"].get(201, 0) for hub, _, _ in rounds)
    bare_created = sum(bare["statuses"].get(201, 0) for _, bare, _ in rounds)
    errors = sum(hub["errors"] + bare["errors"] for hub, bare, _ in rounds)
    print(
        f"   rows: hub +{hub_after - hub_before} for {created} × 201 "
        f"(lost {created - (hub_after - hub_before)}); "
        f"bare +{bare_after - bare_before} for {bare_created} × 201; errors {errors}"
    )
