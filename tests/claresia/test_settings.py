"""Production refuses the development secrets, with a one-line reason."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def manage_check(**env):
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        (
            {"FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()},
            "SECRET_KEY is the development",
        ),
        ({"SECRET_KEY": "a-real-secret-" * 4}, "FIELD_ENCRYPTION_KEYS holds the development key"),
        (
            {
                "SECRET_KEY": "a-real-secret-" * 4,
                "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP": "true",
            },
            "LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP is on and DEBUG is off",
        ),
    ],
)
def test_debug_off_refuses_the_development_secrets(env, reason):
    # when
    result = manage_check(DEBUG="false", **env)

    # then
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_encryption_key_is_refused_in_one_line():
    # when
    result = manage_check(DEBUG="true", FIELD_ENCRYPTION_KEYS="not-a-fernet-key")

    # then
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "claresia: refusing to start: FIELD_ENCRYPTION_KEYS key #1 is not a Fernet key "
        "(32 url-safe base64-encoded bytes)"
    )


def test_debug_off_starts_with_real_secrets():
    # when
    result = manage_check(
        DEBUG="false",
        SECRET_KEY="a-real-secret-" * 4,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )

    # then
    assert result.returncode == 0, result.stderr


def production_env():
    return {
        "DEBUG": "false",
        "SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "claresia.example",
    }


def test_the_deploy_checklist_is_clean_in_production():
    # when
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **production_env()},
        timeout=60,
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_logs_are_json_lines_without_secrets():
    # given
    code = (
        "import logging, django; django.setup();"
        "logging.getLogger('claresia').warning('calling with Bearer sk-compliance-abcdef123456')"
    )

    # when
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **production_env(), "DJANGO_SETTINGS_MODULE": "claresia.settings"},
    )

    # then
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING"
    assert "sk-compliance-abcdef123456" not in result.stderr
    assert "[redacted]" in line["message"]
