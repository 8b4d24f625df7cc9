"""A small closed-loop HTTP/1.1 load generator (raw sockets; connections kept alive unless the
server closes them), run in processes of its own so the load never shares the server's
interpreter. `wrk` is not assumed installed."""

import json
import re
import secrets
import selectors
import socket
import time
from multiprocessing import get_context

TOOL_ERROR = re.compile(rb'"isError":\s*true')
BODY_TEMPLATE = {
    "skill_id": "incident-postmortem",
    "inputs": {"incident_id": "INC-4121", "severity": "SEV2"},
    "output": "## Summary\nThe primary database failed over in 41 s; no data was lost.\n" * 4,
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}


def _request(path: str, token: str, key: str, host: str, *, mcp: bool = False) -> bytes:
    body = {**BODY_TEMPLATE, "record_key": key}
    accept = ""
    if mcp:
        # The same record as an MCP `tools/call` (stateless Streamable HTTP, JSON answer).
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "emit_hub_record", "arguments": body},
        }
        accept = "Accept: application/json, text/event-stream\r\n"
    encoded = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(encoded)}\r\n{accept}"
        "openai-conversation-id: conv-bench\r\n\r\n"
    )
    return head.encode() + encoded


def _parse(buffer: bytearray) -> tuple[int, bool, int] | None:
    """(status, server closes, bytes used) for a complete response at the buffer's start."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    status = int(lines[0].split()[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    if len(buffer) < end + 4 + length:
        return None
    return status, close, end + 4 + length


def _worker(args) -> tuple[list[float], dict[int, int], int, int, int]:
    port, path, token, seconds, connections, worker_id, mcp = args
    run = secrets.token_hex(4)  # record keys never repeat across runs
    host = f"127.0.0.1:{port}"
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    tool_errors = 0  # MCP answers 200 with `isError: true` for a record it did not write
    sequence = 0
    deadline = time.perf_counter() + seconds

    def connect(state):
        state["sock"] = socket.create_connection(("127.0.0.1", port))
        state["sock"].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state["buffer"] = bytearray()
        selector.register(state["sock"], selectors.EVENT_READ, state)

    def send(state):
        nonlocal sequence
        sequence += 1
        state["started"] = time.perf_counter()
        state["pending"] = True
        state["sock"].sendall(_request(path, token, f"{run}-{worker_id}-{sequence}", host, mcp=mcp))

    states = [{} for _ in range(connections)]
    for state in states:
        connect(state)
        send(state)
    in_window = 0
    # After the deadline no new request is sent, but those in flight are awaited: every
    # answer is counted, so rows in the database can be checked against the 201s.
    drain_until = deadline + 10
    while time.perf_counter() < deadline or (
        any(state["pending"] for state in states) and time.perf_counter() < drain_until
    ):
        for key, _ in selector.select(timeout=1.0):
            state = key.data
            try:
                chunk = state["sock"].recv(65536)
                if not chunk:
                    raise ConnectionError("closed by the server")
                state["buffer"] += chunk
                parsed = _parse(state["buffer"])
                if parsed is None:
                    continue
                status, close, used = parsed
                if mcp and TOOL_ERROR.search(state["buffer"], 0, used):
                    tool_errors += 1
                del state["buffer"][:used]
                finished = time.perf_counter()
                latencies.append(finished - state["started"])
                statuses[status] = statuses.get(status, 0) + 1
                in_window += finished <= deadline
            except (OSError, ValueError, IndexError):
                errors += 1
                close = True
            state["pending"] = False
            if close:
                selector.unregister(state["sock"])
                state["sock"].close()
                connect(state)
            if time.perf_counter() < deadline:
                send(state)
    for state in states:
        state["sock"].close()
    return latencies, statuses, errors, in_window, tool_errors


def run_load(
    *,
    port: int,
    path: str,
    token: str,
    seconds: float,
    processes: int,
    connections: int,
    mcp: bool = False,
) -> dict:
    """Closed-loop load for `seconds`; returns req/s, p50/p99 (ms), status counts, errors
    (and, with `mcp`, the requests as MCP `tools/call`s and the tool errors counted)."""
    with get_context("spawn").Pool(processes) as pool:
        results = pool.map(
            _worker,
            [(port, path, token, seconds, connections, index, mcp) for index in range(processes)],
        )
    latencies = sorted(value for result in results for value in result[0])
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result[1].items():
            statuses[status] = statuses.get(status, 0) + count
    errors = sum(result[2] for result in results)

    def percentile(fraction: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": sum(result[3] for result in results) / seconds,
        "p50": percentile(0.50),
        "p99": percentile(0.99),
        "statuses": statuses,
        "errors": errors,
        "tool_errors": sum(result[4] for result in results),
    }
