"""One process calling the ChatGPT admin API for a workspace, as a worker or the web process
does (test_pacing.py beside it): `python -m tests.connectors.openai.pacing_process <workspace>
<requests>` lists that workspace's log files `requests` times, then prints the seconds it took.
Its settings (API base, pacing Redis, limit) come from the environment."""

import os
import sys
import time

import django


def main(workspace: str, requests: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claresia.settings")
    django.setup()
    from connectors.openai import chatgpt_admin
    from connectors.openai.client import Host, OpenAIClient

    principal = chatgpt_admin.Principal.workspace(workspace)
    started = time.monotonic()
    with OpenAIClient(api_key="sk-admin-pacing-test", host=Host.CHATGPT_ADMIN) as client:
        for _ in range(requests):
            chatgpt_admin.logs_page(
                client, principal, event_type="CONVERSATION_MESSAGE", after="2026-01-01T00:00:00Z"
            )
    print(f"{time.monotonic() - started:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
