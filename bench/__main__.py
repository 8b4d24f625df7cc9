"""Run the benchmarks, each in a process of its own on a PostgreSQL database of its own
(`claresia_bench`, made afresh before each one): none measures on what another left behind,
in the database, in Django's state or in the process's peak memory."""

import importlib
import os
import pkgutil
import subprocess
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
    if len(names) > 1:
        failed = [
            name
            for name in names
            if subprocess.call([sys.executable, "-m", "bench", name.removeprefix("bench_")])  # noqa: S603
        ]
        if failed:
            print("failed:", ", ".join(failed), file=sys.stderr)
        return 1 if failed else 0
    (name,) = names
    _fresh_database(database_url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    print(f"== {name.removeprefix('bench_')} ==", flush=True)
    importlib.import_module(f"bench.{name}").main()
    print(f"   ({time.perf_counter() - started:.1f}s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
