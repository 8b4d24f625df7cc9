import json
import os
import subprocess
import sys
from pathlib import Path

from claresia import celery_app

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_broker_tasks_run_in_process(settings):
    # then: the suite runs with CELERY_BROKER_URL unset, as the zero-setup demo does
    assert settings.CELERY_BROKER_URL is None
    assert celery_app.conf.task_always_eager is True


def _celery_settings(broker_url: str) -> dict:
    env = {**os.environ, "CELERY_BROKER_URL": broker_url, "DEBUG": "true"}
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_TASK_ALWAYS_EAGER, "
        "getattr(s, 'CELERY_BROKER_TRANSPORT_OPTIONS', None)]))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    eager, options = json.loads(result.stdout.strip().splitlines()[-1])
    return {"eager": eager, "options": options}


def test_the_demos_filesystem_broker_reads_its_folders_from_the_environment():
    # when: `make run`'s broker
    demo = _celery_settings("filesystem://")

    # then: a real worker's queue, in one folder under var/celery/
    assert demo["eager"] is False
    assert demo["options"]["data_folder_in"] == demo["options"]["data_folder_out"]
    assert demo["options"]["data_folder_in"].endswith("var/celery/queue")


def test_a_redis_broker_gets_no_filesystem_options():
    # when
    production = _celery_settings("redis://127.0.0.1:6379/0")

    # then
    assert production == {"eager": False, "options": None}
