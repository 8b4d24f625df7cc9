"""The OpenAI client's per-call overhead against the sandbox, next to a bare httpx loop.

Baseline: the same GET with a plain httpx.Client on the same connection pool size, so the
ratio shows what retries, error mapping and JSON decoding cost per call.
"""

import time

import httpx

from connectors.openai import modelled
from connectors.openai.client import OpenAIClient
from connectors.sandbox.server import start_sandbox

CALLS = 2000


def main() -> None:
    sandbox = start_sandbox()
    headers = {"Authorization": "Bearer sk-compliance-bench", "OpenAI-Organization": "org-bench"}
    try:
        with httpx.Client(base_url=sandbox.api_base, headers=headers) as bare:
            started = time.perf_counter()
            for _ in range(CALLS):
                bare.get("/organization/audit_logs", params={"limit": 1}).json()
            baseline = CALLS / (time.perf_counter() - started)
        with OpenAIClient(
            api_key="sk-compliance-bench", organization_id="org-bench", base_url=sandbox.api_base
        ) as client:
            started = time.perf_counter()
            for _ in range(CALLS):
                modelled.audit_logs_page(client, limit=1)
            ours = CALLS / (time.perf_counter() - started)
    finally:
        sandbox.stop()
    print(f"   bare httpx:     {baseline:8.0f} calls/s")
    print(f"   OpenAIClient:   {ours:8.0f} calls/s   ratio {ours / baseline:.2f}")
