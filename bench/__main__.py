"""Run the benchmarks on a PostgreSQL database of their own (`claresia_bench`, made afresh)."""

import importlib
import os
import pkgutil
import sys
import time

import psycopg

import bench


def _fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claresia.settings")
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/claresia_bench"
    )
    os.environ["DATABASE_URL"] = database_url
    _fresh_database(database_url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    wanted = set(argv) or None
    names = sorted(
        module.name
        for module in pkgutil.iter_modules(bench.__path__)
        if module.name.startswith("bench_")
        and (wanted is None or module.name.removeprefix("bench_") in wanted)
    )
    if not names:
        print("no benchmark matched", ", ".join(sorted(wanted or [])), file=sys.stderr)
        return 2
    for name in names:
        started = time.perf_counter()
        print(f"== {name.removeprefix('bench_')} ==", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(f"   ({time.perf_counter() - started:.1f}s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
