"""The OpenAI sandbox's HTTP server: OpenAI's surface under `/v1/`, controls under `/_sandbox/`.

Controls (JSON bodies; used by tests, benchmarks and the demo):
- `POST /_sandbox/reset`: forget every org, fault and logged request.
- `POST /_sandbox/events` `{"org": "org-…", "events": [AuditLog…]}` or
  `{"org": "org-…", "generate": {"count": 1000, "tenant": "dainese", …}}`: add audit events.
- `POST /_sandbox/faults` `{"path": "/v1/organization/audit_logs", "status": 429,
  "retry_after": "1", "times": 2, "every": 1, "delay": 0, "body": "<raw>"}`; `DELETE` clears them.
- `POST /_sandbox/orgs/<org>` `{"group_ids": ["grp_…"]}`: the workspace groups that exist.
- `GET /_sandbox/requests`: `[[method, path, status], …]` served so far; `DELETE` clears it.
- `GET /_sandbox/gpts/<org>`; `PATCH` / `DELETE /_sandbox/gpts/<org>/<gpt_id>`: look at or
  change a GPT behind Claresia's back.
- `/_sandbox/compliance/…`: the real Compliance API's files, GPTs and rate limit
  (`compliance.py`, which also serves `/v1/compliance/…` and the signed URLs `/_signed/…`).
"""

import json
import logging
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, fields
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.sandbox.chatgpt_admin import SIGNED_PREFIX, ComplianceError, file_chunks
from connectors.sandbox.state import APIError, Fault, SandboxState, generate_events

logger = logging.getLogger(__name__)

GPT_PATH = re.compile(r"^/v1/organization/gpts/(?P<gpt_id>[^/]+)(?P<sharing>/sharing)?$")
CONTROL_GPT_PATH = re.compile(r"^/_sandbox/gpts/(?P<org>[^/]+)(?:/(?P<gpt_id>[^/]+))?$")
FAULT_FIELDS = {f.name for f in fields(Fault)} - {"seen"}


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: "SandboxServer"

    def log_message(self, format: str, *args) -> None:
        logger.debug("sandbox %s", format % args)

    # ---- dispatch -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server.state
        try:
            if path.startswith("/_sandbox/"):
                status, payload = self._control(method, path, body)
                self._send(status, payload)
                return
            fault = state.take_fault(method, path)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status:
                    self._send_fault(method, path, fault)
                    return
            if path.startswith(SIGNED_PREFIX) or path.startswith("/v1/compliance/"):
                self._compliance(method, path, query)
                return
            status, payload = self._api(method, path, query, body)
        except ComplianceError as exc:
            state.record(method, path, exc.status)
            self._send(exc.status, exc.body, exc.headers)
            return
        except APIError as exc:
            state.record(method, path, exc.status)
            self._send(exc.status, exc.body, exc.headers)
            return
        except (ValueError, KeyError, TypeError) as exc:
            state.record(method, path, 400)
            self._send(
                400,
                {
                    "error": {
                        "message": f"bad request: {exc}",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
            return
        state.record(method, path, status)
        self._send(status, payload)

    def _send_fault(self, method: str, path: str, fault: Fault) -> None:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        self.server.state.record(method, path, fault.status)
        if fault.body is not None:
            self._send(fault.status, fault.body.encode(), headers, content_type="text/html")
            return
        code = fault.code or ("rate_limit_exceeded" if fault.status == 429 else "server_error")
        message = "Rate limit reached" if fault.status == 429 else "The server had an error"
        self._send(
            fault.status,
            {"error": {"message": message, "type": code, "param": None, "code": code}},
            headers,
        )

    def _send(
        self,
        status: int,
        payload,
        headers: dict | None = None,
        *,
        content_type: str = "application/json",
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    # ---- the real Compliance API (compliance.py) ------------------------------------------

    def _compliance(self, method: str, path: str, query: dict) -> None:
        state = self.server.state
        if path.startswith(SIGNED_PREFIX):
            file, corrupt = state.compliance.signed_file(
                path.removeprefix(SIGNED_PREFIX), self.headers.get("Authorization")
            )
            state.record(method, SIGNED_PREFIX, 200)
            self.send_response(200)
            self.send_header("Content-Type", "application/jsonl")
            self.send_header("Content-Length", str(file.size))
            self.end_headers()
            for chunk in file_chunks(file, corrupt):
                self.wfile.write(chunk)
            return
        base = f"http://{self.headers.get('Host', '127.0.0.1')}"
        status, payload, headers = state.compliance.api(
            method, path, query, self.headers.get("Authorization", ""), base
        )
        state.record(method, path, status)
        self._send(status, payload, headers)

    # ---- OpenAI's surface -----------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict, body: bytes):
        state = self.server.state
        publish = not path.startswith("/v1/organization/audit_logs")
        org = state.authenticate(
            self.headers.get("Authorization", ""),
            self.headers.get("OpenAI-Organization", ""),
            publish=publish,
        )
        if path == "/v1/organization/audit_logs" and method == "GET":
            return 200, state.audit_logs(org, query)
        if path == "/v1/files" and method == "POST":
            filename, content, purpose = _multipart(self.headers.get("Content-Type", ""), body)
            return 200, state.file_create(org, filename, content, purpose)
        if path == "/v1/organization/gpts":
            if method == "GET":
                return 200, state.gpts_list(org, query)
            if method == "POST":
                return 201, state.gpt_save(org, _json(body))
        match = GPT_PATH.match(path)
        if match:
            gpt_id = match["gpt_id"]
            if match["sharing"] and method == "PUT":
                return 200, state.gpt_share(org, gpt_id, _json(body))
            if not match["sharing"]:
                if method == "GET":
                    return 200, state.gpt_get(org, gpt_id)
                if method == "POST":
                    return 200, state.gpt_save(org, _json(body), gpt_id)
                if method == "DELETE":
                    return 200, state.gpt_delete(org, gpt_id)
        raise APIError(404, "not_found", f"Unknown route {method} {path}")

    # ---- controls -------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes):
        state = self.server.state
        data = _json(body) if body else {}
        if path.startswith("/_sandbox/compliance/"):
            return 200, state.compliance.control(
                method, path.removeprefix("/_sandbox/compliance/"), data
            )
        if path == "/_sandbox/reset" and method == "POST":
            state.reset()
            return 200, {"reset": True}
        if path == "/_sandbox/events" and method == "POST":
            events = data.get("events")
            if events is None:
                events = generate_events(**data["generate"])
            return 200, {"added": state.add_events(data["org"], events)}
        if path == "/_sandbox/faults":
            if method == "POST":
                unknown = set(data) - FAULT_FIELDS
                if unknown:
                    raise APIError(400, None, f"unknown fault fields {sorted(unknown)}")
                with state.lock:
                    state.faults.append(Fault(**data))
                return 200, {"faults": len(state.faults)}
            if method == "DELETE":
                with state.lock:
                    state.faults.clear()
                return 200, {"faults": 0}
        if path == "/_sandbox/requests":
            with state.lock:
                if method == "DELETE":
                    state.requests.clear()
                return 200, [list(r) for r in state.requests]
        if path.startswith("/_sandbox/orgs/") and method == "POST":
            org = state.org(path.removeprefix("/_sandbox/orgs/"))
            with state.lock:
                org.group_ids = (
                    set(data["group_ids"]) if data.get("group_ids") is not None else None
                )
            return 200, {"org": org.org_id}
        match = CONTROL_GPT_PATH.match(path)
        if match:
            org = state.org(match["org"])
            with state.lock:
                if match["gpt_id"] is None and method == "GET":
                    return 200, sorted(org.gpts.values(), key=lambda g: g["id"])
                gpt = state.gpt_get(org, match["gpt_id"])
                if method == "GET":
                    return 200, gpt
                if method == "PATCH":
                    gpt.update(data)
                    return 200, gpt
                if method == "DELETE":
                    return 200, state.gpt_delete(org, match["gpt_id"])
        raise APIError(404, "not_found", f"Unknown sandbox control {method} {path}")


def _json(body: bytes):
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise APIError(400, None, "body is not valid JSON") from None


def _multipart(content_type: str, body: bytes) -> tuple[str, bytes, str]:
    if not content_type.startswith("multipart/form-data"):
        raise APIError(400, None, "expected multipart/form-data", param="file")
    message = message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=HTTP
    )
    filename, content, purpose = None, b"", ""
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "file":
            filename = part.get_filename() or "upload"
            content = part.get_payload(decode=True) or b""
        elif name == "purpose":
            purpose = (part.get_payload(decode=True) or b"").decode()
    if filename is None:
        raise APIError(400, None, "the multipart body has no 'file' part", param="file")
    return filename, content, purpose


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SandboxState | None = None) -> None:
        self.state = state or SandboxState()
        super().__init__(address, SandboxHandler)

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (its timeout, a killed poller) is normal here, not a crash.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class RunningSandbox:
    server: SandboxServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    @property
    def state(self) -> SandboxState:
        return self.server.state

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_sandbox(host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Serve the sandbox from a background thread (tests); port 0 picks a free port."""
    server = SandboxServer((host, port))
    thread = threading.Thread(target=server.serve_forever, name="openai-sandbox", daemon=True)
    thread.start()
    return RunningSandbox(server=server, thread=thread)
