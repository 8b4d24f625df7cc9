"""A real Celery worker, consuming from Redis, against the test database.

The suite otherwise runs tasks in-process; these tests prove the same tasks go through the
broker. The worker is a subprocess (`celery -A claresia worker`) sharing the test database and
the OpenAI sandbox served by this process.
"""

import os
import subprocess
import sys
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.db import connection

from claresia import celery_app
from claresia.broker import filesystem_folders_create, filesystem_transport_options

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _drop_connection_pools() -> None:
    """Forget connections made for an earlier broker URL (Celery caches them on the app)."""
    kombu.pools.reset()  # kombu's registry of producer pools, keyed by broker connection
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(request, tmp_path) -> tuple[str, dict, dict]:
    """(broker URL, transport options, the worker's extra environment): Redis as in production,
    or, with `indirect` param "filesystem", the folder of message files `make run` uses."""
    if getattr(request, "param", "redis") == "filesystem":
        folder = tmp_path / "celery"
        filesystem_folders_create(folder)
        return (
            "filesystem://",
            filesystem_transport_options(folder),
            {"CELERY_FILESYSTEM_FOLDER": str(folder)},
        )
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis.Redis.from_url(url).flushdb()
    return url, {}, {}


@pytest.fixture
def celery_worker_process(transactional_db, broker, sandbox):
    """A worker subprocess, and this process's Celery app sending through the same broker."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database over PostgreSQL")
    broker_url, transport_options, broker_env = broker
    env = {
        **os.environ,
        **broker_env,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "OPENAI_API_BASE": sandbox.api_base,
        "DEBUG": "true",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "claresia",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_transport_options)
    conf.task_always_eager, conf.broker_url = False, broker_url
    conf.broker_transport_options = transport_options
    _drop_connection_pools()
    try:
        yield worker
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_transport_options = saved
        _drop_connection_pools()
        worker.terminate()
        try:
            worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
