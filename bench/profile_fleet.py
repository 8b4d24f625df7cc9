"""Where one tenant's poll spends its CPU, in one process: the fleet benchmark's tenants (the
sandbox, its files, a tested connector), each polled by the Celery task's own function with
the shared Redis pacer, under cProfile; then the same tenants again with nothing new.

    LOG_LEVEL=WARNING DATABASE_URL=… CACHE_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python -m bench.profile_fleet [TENANTS] [TOP]

It prints the CPU a tenant (process time, the worker's share of the benchmark's figure) for a
round with new files and a quiet one, and the functions taking the most of it (cumulative).
The database named by DATABASE_URL is made afresh: use a scratch one.
"""

import cProfile
import io
import os
import pstats
import sys
import time


def _profile(label: str, tenants, poll, top: int) -> None:
    from django.db import connection

    profiler = cProfile.Profile(time.process_time)  # CPU, not the wait on PostgreSQL or HTTP
    queries = 0
    cpu = 0.0
    for tenant in tenants:
        connection.queries_log.clear()
        started = time.process_time()
        profiler.enable()
        poll(tenant.pk)
        profiler.disable()
        cpu += time.process_time() - started
        queries += len(connection.queries_log)
        if os.environ.get("PROFILE_SQL") and tenant is tenants[0]:
            for query in connection.queries_log:
                print("   SQL", query["sql"][:160])
    print(
        f"-- {label}: {cpu / len(tenants) * 1000:.1f} ms CPU a tenant (with cProfile's own cost), "
        f"{queries / len(tenants):.1f} queries a tenant"
    )
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def _timed(label: str, tenants, poll) -> None:
    started = time.process_time()
    for tenant in tenants:
        poll(tenant.pk)
    cpu = time.process_time() - started
    print(f"-- {label}, without profiler: {cpu / len(tenants) * 1000:.1f} ms CPU a tenant")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claresia.settings")
    os.environ["LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP"] = "true"
    os.environ.setdefault("DEBUG", "true")
    from bench.__main__ import _fresh_database

    _fresh_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from bench.bench_fleet import Fleet
    from bench.bench_telemetry import _start_sandbox
    from telemetry.tasks import telemetry_poll_tenant_task

    sandbox, url = _start_sandbox()
    try:
        settings.CHATGPT_ADMIN_API_BASE = f"{url}/v1"
        settings.OPENAI_API_BASE = f"{url}/v1"
        fleet = Fleet(url, "", settings.CLARESIA_HUB_BASE_URL)
        # Warm-up tenant (imports, the first connection, Test connection) outside the figures.
        warm = fleet.tenants(0, 1)
        telemetry_poll_tenant_task(warm[0].pk)
        telemetry_poll_tenant_task(warm[0].pk)
        new = fleet.tenants(1, count)  # only these stay connected
        half = count // 2
        connection.force_debug_cursor = True  # count queries
        _profile("round with new files", new[:half], telemetry_poll_tenant_task, top)
        _profile("quiet round", new[:half], telemetry_poll_tenant_task, top)
        connection.force_debug_cursor = False
        _timed("round with new files", new[half:], telemetry_poll_tenant_task)
        _timed("quiet round", new[half:], telemetry_poll_tenant_task)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
