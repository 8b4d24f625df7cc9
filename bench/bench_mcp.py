"""`tools/call emit_hub_record` on /mcp under gunicorn on PostgreSQL, next to `POST /hub/v1/records`
doing the same record.

The same gunicorn as bench_hub (production's sync workers, 2 × cores + 1, persistent database
connections), loaded by the same closed-loop generator on loopback, in alternating rounds. /mcp
is called as ChatGPT calls it once connected: one stateless JSON-RPC exchange per call, with an
OAuth access token of a client approved for the tenant (issued here directly, as DOT stores it).
The ratio shows what the MCP layer costs over the HTTP API: the OAuth token lookup, the JSON-RPC
envelope and the SDK's server driven in-process per request (telemetry/app_connection/server.py).
Afterwards the rows are counted: every successful call must be a row (no lost records)."""

import os
import secrets
import statistics
from datetime import timedelta

from bench.bench_hub import (
    CONNECTIONS,
    LOAD_PROCESSES,
    ROUNDS,
    SECONDS,
    WARMUP_SECONDS,
    WORKER_CLASS,
    WORKERS,
    _line,
    _start_gunicorn,
)


def _setup(pepper: str) -> tuple[str, str]:
    """The bench tenant and its skill; a hub token; an MCP access token of an approved client."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, set_token_value

    from claresia.services import tenant_create
    from skills.models import Skill
    from telemetry.app_connection.services import mcp_client_approve, mcp_client_register
    from telemetry.hub.services import hub_token_issue

    tenant = tenant_create(slug="bench", name="Bench")
    Skill.objects.create(
        tenant=tenant,
        skill_id="incident-postmortem",
        name="Incident Postmortem",
        version="1.0.0",
        description="Writes a postmortem.",
        ir={"instructions": "Write a blameless postmortem."},
    )
    settings.HUB_TOKEN_PEPPER = pepper
    hub_token = hub_token_issue(tenant=tenant).plaintext
    application = mcp_client_register(
        client_name="ChatGPT",
        redirect_uris=["https://chatgpt.com/connector_platform_oauth_redirect"],
    )
    mcp_client_approve(client_id=application.client_id, tenant=tenant, user=None)
    mcp_token = secrets.token_urlsafe(30)
    access = AccessToken(
        application=application,
        expires=timezone.now() + timedelta(hours=1),
        scope=settings.MCP_SCOPE,
    )
    set_token_value(access, mcp_token)
    access.save()
    connection.close()
    return hub_token, mcp_token


def _bind_audience(resource: str) -> None:
    """The token's audience (RFC 8707): the /mcp of the server just started, whose port was
    not known when the token was issued."""
    from django.db import connection
    from oauth2_provider.models import AccessToken

    AccessToken.objects.update(resource=[resource])
    connection.close()


def _rows() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM telemetry_hubrecord")
        return cursor.fetchone()[0]


def main() -> None:
    from bench.loadgen import run_load

    pepper = secrets.token_hex(32)
    hub_token, mcp_token = _setup(pepper)
    # One connection carries the whole load: its throttle still counts every call, as the hub's.
    server, listener, port = _start_gunicorn(pepper, {"MCP_CLIENT_RATE": "100000000/min"})
    _bind_audience(f"http://127.0.0.1:{port}/mcp")
    load = {"port": port, "processes": LOAD_PROCESSES, "connections": CONNECTIONS}
    hub_load = {**load, "path": "/hub/v1/records", "token": hub_token}
    mcp_load = {**load, "path": "/mcp", "token": mcp_token, "mcp": True}
    rounds: list[tuple[dict, dict, float]] = []
    try:
        run_load(seconds=WARMUP_SECONDS, **hub_load)
        run_load(seconds=WARMUP_SECONDS, **mcp_load)
        before = _rows()
        # Alternating rounds on a shared machine, as bench_hub: both under the same load.
        for _ in range(ROUNDS):
            mcp = run_load(seconds=SECONDS, **mcp_load)
            hub = run_load(seconds=SECONDS, **hub_load)
            rounds.append((mcp, hub, os.getloadavg()[0]))
        after = _rows()
    finally:
        server.terminate()
        server.wait(timeout=30)
        listener.close()
    print(
        f"   gunicorn {WORKERS} {WORKER_CLASS} workers; load: {LOAD_PROCESSES} process(es) × "
        f"{CONNECTIONS} connections, {SECONDS:.0f} s each, {ROUNDS} alternating rounds"
    )
    for index, (mcp, hub, load_average) in enumerate(rounds, 1):
        print(f"   round {index} (load average {load_average:.2f}):")
        print(_line("POST /hub/v1/records:", hub))
        print(_line("/mcp tools/call:", mcp))
        print(f"   ratio {mcp['rps'] / hub['rps']:.2f} (mcp / hub req/s, same round)")
    ratios = sorted(mcp["rps"] / hub["rps"] for mcp, hub, _ in rounds)
    print(f"   median same-round ratio {statistics.median(ratios):.2f} (mcp / hub)")
    best_mcp = max((mcp for mcp, _, _ in rounds), key=lambda result: result["rps"])
    best_hub = max((hub for _, hub, _ in rounds), key=lambda result: result["rps"])
    print("   best of the rounds:")
    print(_line("POST /hub/v1/records:", best_hub))
    print(_line("/mcp tools/call:", best_mcp))
    print(f"   ratio {best_mcp['rps'] / best_hub['rps']:.2f} (best mcp / best hub req/s)")
    # Every answer carries a new record_key: a 201 from the hub and a 200 from /mcp that is
    # not a tool error each wrote one row.
    hub_created = sum(hub["statuses"].get(201, 0) for _, hub, _ in rounds)
    mcp_created = sum(mcp["statuses"].get(200, 0) - mcp["tool_errors"] for mcp, _, _ in rounds)
    tool_errors = sum(mcp["tool_errors"] for mcp, _, _ in rounds)
    errors = sum(mcp["errors"] + hub["errors"] for mcp, hub, _ in rounds)
    written = after - before
    print(
        f"   rows: +{written} for {hub_created} hub 201s and {mcp_created} MCP results "
        f"(lost {hub_created + mcp_created - written}); tool errors {tool_errors}; "
        f"errors {errors}"
    )
