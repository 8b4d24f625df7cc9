"""`make run` writes its environment to `.env`, so the README's `manage.py` commands run beside
the demo talk to its sandbox; and a Test connection that cannot reach OpenAI never stops the
telemetry that was being read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from connectors.models import Connector
from connectors.selectors import connector_logs_principal
from connectors.services import connector_test_connection

ROOT = Path(__file__).resolve().parents[2]
DEMO_ONLY = ("DEBUG", "OPENAI_API_BASE", "CHATGPT_ADMIN_API_BASE", "CLARESIA_HUB_BASE_URL")


def write_demo_env(path: Path, sandbox) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SANDBOX_PORT": "8765",
        "OPENAI_API_BASE": sandbox.api_base,
        "CHATGPT_ADMIN_API_BASE": sandbox.api_base,
        "CLARESIA_HUB_BASE_URL": "http://127.0.0.1:8000",
        "CELERY_BROKER_URL": "",
        "CELERY_FILESYSTEM_FOLDER": str(path.parent / "celery"),
    }
    return subprocess.run(
        ["scripts/demo_env.sh", str(path)], cwd=ROOT, env=env, capture_output=True, text=True
    )


def manage(*args: str, env_file: Path) -> subprocess.CompletedProcess:
    """`.venv/bin/python manage.py …` as the README prints it: none of the demo's variables in
    the shell, only the database this test uses."""
    env = {k: v for k, v in os.environ.items() if k not in DEMO_ONLY}
    db = connection.settings_dict
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["CLARESIA_ENV_FILE"] = str(env_file)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_test_connection_beside_the_demo_reads_the_sandbox_from_the_env_file(
    tmp_path, sandbox, connector
):
    # given: the environment make run writes
    assert write_demo_env(tmp_path / ".env", sandbox).returncode == 0

    # when
    result = manage("test_connection", "--tenant", "dainese", env_file=tmp_path / ".env")

    # then
    assert result.returncode == 0, result.stderr
    assert "connected: tenant dainese" in result.stdout
    assert ("GET", "/v1/compliance/organizations/org-dainese/logs", 200) in sandbox.state.requests


def test_the_demo_env_file_leaves_a_env_file_it_did_not_write_alone(tmp_path, sandbox):
    # given
    own = tmp_path / ".env"
    own.write_text("DEBUG=false\nSECRET_KEY=mine\n")

    # when
    result = write_demo_env(own, sandbox)

    # then
    assert result.returncode == 0
    assert own.read_text() == "DEBUG=false\nSECRET_KEY=mine\n"
    assert "left as it is" in result.stderr


@pytest.mark.integration
def test_a_test_connection_that_cannot_reach_openai_keeps_reading_the_logs_platform(
    sandbox, connector, settings
):
    # given: a connector whose Logs Platform line passed
    connector_test_connection(connector=connector)
    assert connector_logs_principal(tenant=connector.tenant) is not None

    # when: the test runs against hosts that do not answer (no demo environment, an outage)
    settings.OPENAI_API_BASE = settings.CHATGPT_ADMIN_API_BASE = "http://127.0.0.1:9/v1"
    result = connector_test_connection(connector=connector)

    # then
    principal = connector_logs_principal(tenant=connector.tenant)
    assert principal is not None and principal.id == "org-dainese"
    assert result.status == Connector.Status.CONNECTED
    assert "still read as before" in result.last_error


@pytest.mark.integration
def test_a_connection_never_tested_is_not_read_when_openai_cannot_be_reached(
    sandbox, connector, settings
):
    # given
    settings.OPENAI_API_BASE = settings.CHATGPT_ADMIN_API_BASE = "http://127.0.0.1:9/v1"

    # when
    result = connector_test_connection(connector=connector)

    # then
    assert result.status == Connector.Status.FAILED
    assert connector_logs_principal(tenant=connector.tenant) is None


def test_the_overview_says_a_kept_line_is_still_read(client, staff, connector):
    # given a checklist line that could not reach OpenAI after passing before
    connector.connection_checks = [
        {
            "check": "logs_organization",
            "label": "Compliance Logs Platform, organization org-dainese",
            "outcome": "failed",
            "detail": "OpenAI unavailable: connection refused",
            "disables": "ChatGPT telemetry",
            "principal": "org-dainese",
            "transient": True,
            "kept": True,
        }
    ]
    connector.status = Connector.Status.CONNECTED
    connector.save()
    client.force_login(staff)

    # when
    page = client.get("/command-center/").content.decode()

    # then
    assert "Still read as before" in page and "Disables: ChatGPT telemetry" not in page
