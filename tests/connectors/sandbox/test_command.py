"""`manage.py openai_sandbox` serves the sandbox and stops cleanly on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.integration
def test_the_sandbox_command_serves_until_sigterm():
    # given
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "openai_sandbox", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DEBUG": "true"},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/organization/audit_logs",
                    headers={
                        "Authorization": "Bearer sk-compliance-x",
                        "OpenAI-Organization": "org-x",
                    },
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)

        # when
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()

    # then
    assert response.json()["object"] == "list"
    assert process.returncode == 0
    assert "OpenAI sandbox stopped" in out
    assert "Traceback" not in err


def test_a_port_in_use_is_one_line_not_a_traceback():
    # given
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        # when
        result = subprocess.run(
            [sys.executable, "manage.py", "openai_sandbox", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DEBUG": "true"},
            timeout=60,
        )

    # then
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
