"""The hub as an MCP server (`/mcp`, Streamable HTTP with stateless JSON responses) on the
official `mcp` SDK, with one tool, `emit_hub_record`: a plugin skill's way to the hub
(hub-records-api.md; chatgpt-admin-api.md, "Plugins, the successor").

The SDK's transport is an ASGI app. `mcp_endpoint` is a Django view that authenticates the
caller, bounds the body and drives that app for this one request in-process (a stateless JSON
exchange has exactly one body in and one out), so /mcp is served by the same web process,
under WSGI (gunicorn, the test server) and ASGI alike, through `bridge.py` (a kept event loop
per request thread). The caller is authenticated by `HubTokenVerifier` (the SDK's
TokenVerifier shape); a 401's challenge is django-oauth-toolkit's RFC 9728 one. A plainly valid
`tools/call` skips the transport's per-request machinery and goes to the SDK's server kernel
with the same answer; README "Where a call's time goes" and bench_mcp measure the cost. The
tool calls the same service as `POST /hub/v1/records`."""

import contextlib
import contextvars
import functools
import json
import logging
from dataclasses import dataclass
from types import SimpleNamespace

import anyio
import mcp_types as types
import pydantic_core
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from mcp.server.connection import Connection
from mcp.server.lowlevel import Server
from mcp.server.runner import ServerRunner
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp.shared.transport_context import TransportContext
from mcp_types import DEFAULT_NEGOTIATED_VERSION, jsonrpc_message_adapter
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from oauth2_provider.views.mixins import ProtectedResourceMetadataMixin
from rest_framework import serializers as drf_serializers

from claresia.throttling import WindowThrottle
from skills.rules import HUB_APP_NAME, HUB_APP_TITLE
from telemetry.app_connection.bridge import Bridge
from telemetry.app_connection.oauth import hub_resource, resource_metadata_url
from telemetry.app_connection.services import (
    HubTokenVerifier,
    McpCaller,
    mcp_client_touch,
    mcp_client_touch_due,
)
from telemetry.hub.exceptions import PayloadTooLarge, flatten_errors
from telemetry.hub.footer import cost_display
from telemetry.hub.serializers import emit_hub_record_values
from telemetry.hub.services import (
    OpenAIContext,
    SkillNotFound,
    hub_record_emit_values,
    hub_record_footer,
    hub_record_url,
)
from telemetry.hub.validation import MAX_BODY_CHARACTERS

logger = logging.getLogger(__name__)

TOOL_NAME = "emit_hub_record"
# The tool's arguments are the hub API's body (at most MAX_BODY_CHARACTERS); the JSON-RPC
# envelope around them gets a little room, and UTF-8 at most 4 bytes a character.
MAX_REQUEST_BYTES = 4 * MAX_BODY_CHARACTERS + 8192
# JSON-RPC's range for implementation-defined server errors (-32000 to -32099).
SERVER_BUSY = -32000

# Per OAuth client, not per access token: tokens rotate hourly, and a refresh must not reset
# the count. Like a hub token, a client is one tenant's connection from OpenAI's shared egress.
_throttle = WindowThrottle("mcp_client")

# The exchange's caller, its OpenAI headers, and whether its body is within MAX_BODY_CHARACTERS.
_caller: contextvars.ContextVar[tuple[McpCaller, OpenAIContext, bool]] = contextvars.ContextVar(
    "mcp_caller"
)


def _inline_refs(node, components: dict):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline_refs(components[ref.rsplit("/", 1)[1]], components)
        return {key: _inline_refs(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, components) for item in node]
    return node


@functools.cache
def _schemas() -> tuple[dict, dict, str]:
    """The tool's input and output schemas and its description, cut from the hub's OpenAPI
    document (the one generated from the serializers): the body is never written twice."""
    from telemetry.hub.schema import hub_openapi_document

    document = hub_openapi_document()
    components = document["components"]["schemas"]
    operation = document["paths"]["/hub/v1/records"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    answer = operation["responses"]["201"]["content"]["application/json"]["schema"]
    return (
        _inline_refs(body, components),
        _inline_refs(answer, components),
        operation["description"],
    )


def _tool() -> types.Tool:
    input_schema, output_schema, description = _schemas()
    return types.Tool(
        name=TOOL_NAME,
        title="Record to the Claresia hub",
        description=description,
        input_schema=input_schema,
        output_schema=output_schema,
        annotations=types.ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True
        ),
    )


async def _list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[_tool()])


def _tool_error(body: dict) -> types.CallToolResult:
    # An MCP tool error (isError), carrying the HTTP API's own error body.
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(body))], structured_content=body, is_error=True
    )


def _emit(
    caller: McpCaller, context: OpenAIContext, arguments: dict, *, small: bool = False
) -> types.CallToolResult:
    # A request body within the bound holds arguments within it: only a larger one is measured.
    if not small and len(json.dumps(arguments)) > MAX_BODY_CHARACTERS:
        return _tool_error({"detail": str(PayloadTooLarge.default_detail)})
    try:
        values = emit_hub_record_values(arguments)
    except drf_serializers.ValidationError as error:
        return _tool_error({"errors": flatten_errors(error.detail)})
    try:
        result = hub_record_emit_values(values, tenant=caller.tenant, context=context)
    except SkillNotFound:
        return _tool_error({"detail": SkillNotFound.message})
    record = result.record
    url = hub_record_url(record)
    answer = {
        "id": record.id,
        "url": url,
        "footer": hub_record_footer(record, url=url),
        "cost_usd": cost_display(record.cost_usd),
        "latency_ms": record.latency_ms,
    }
    return types.CallToolResult(
        content=[types.TextContent(text=answer["footer"])], structured_content=answer
    )


async def _call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    if params.name != TOOL_NAME:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name[:100]}")
    caller, context, small = _caller.get()
    return await bridge.run_sync(_emit, caller, context, params.arguments or {}, small=small)


server = Server(
    HUB_APP_NAME,
    version="1",
    title=HUB_APP_TITLE,
    instructions="Record each skill's output with emit_hub_record and end with its footer.",
    on_list_tools=_list_tools,
    on_call_tool=_call_tool,
)
# The SDK's one default middleware wraps every message in an OpenTelemetry span: a no-op here
# (opentelemetry-api only, no exporter) that still cost each call (README, "Where a call's time
# goes"). The SDK documents dropping it from this list to opt out.
server.middleware = []


class _ExchangeContext:
    """The SDK's DispatchContext for one stateless JSON exchange, as its stateless transport
    gives the handler: no back channel for server-to-client requests (no session), and no wire
    for notifications (JSON response mode)."""

    def __init__(self, request_id) -> None:
        self.transport = TransportContext(kind="streamable-http", can_send_request=False)
        self.can_send_request = False
        self.request_id = request_id
        self.message_metadata = None
        self.cancel_requested = anyio.Event()

    async def send_raw_request(self, method, params, opts=None):
        raise NoBackChannelError(method)

    async def notify(self, method, params, opts=None) -> None:
        return None

    async def progress(self, progress, total=None, message=None) -> None:
        return None


def _plain_tool_call(meta: dict, body: bytes) -> tuple[types.JSONRPCRequest, str] | None:
    """The request and its protocol version when this exchange is a plainly valid `tools/call`
    that the SDK's stateless JSON transport would hand to its server as is; None for anything
    else, which the transport itself then answers (streamable_http.py, `_handle_post_request`:
    the same checks, in the same order). Read from the WSGI environ: no ASGI scope is built."""
    version = meta.get("HTTP_MCP_PROTOCOL_VERSION")
    if "HTTP_MCP_SESSION_ID" in meta or (
        version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS
    ):
        return None
    accepted = {
        part.split(";")[0].strip().lower() for part in meta.get("HTTP_ACCEPT", "").split(",")
    }
    if accepted.isdisjoint({"application/json", "application/*", "*/*"}):
        return None
    if meta.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/json":
        return None
    try:
        raw = pydantic_core.from_json(body)
        if not isinstance(raw, dict) or raw.get("method") != "tools/call":
            return None
        message = jsonrpc_message_adapter.validate_python(raw, by_name=False)
    except ValueError:  # pydantic's ValidationError is one
        return None
    if not isinstance(message, types.JSONRPCRequest):
        return None
    return message, version if version else DEFAULT_NEGOTIATED_VERSION


async def _serve_tool_call(
    kept: "_Kept", message: types.JSONRPCRequest, version: str
) -> tuple[int, list, bytes]:
    """Answer a plain `tools/call` through the SDK's server kernel (`ServerRunner.on_request`,
    what the SDK's single-exchange entry `serve_one` runs) without its per-request transport,
    memory streams and dispatcher task: the answer is the transport's, byte for byte
    (test_a_plain_tool_call_is_answered_as_the_sdk_transport_answers_it). `serve_one` then
    closes the connection's exit stack under a shielded, time-bounded cancel scope, for a
    driver that may be cancelled; this drive never is (nothing cancels a request's own loop,
    and the stack holds nothing for a stateless exchange), so it is closed plainly: a tenth
    of the SDK's share of a call."""
    connection = Connection.from_envelope(version, None, None)
    runner = ServerRunner(server, connection, kept.lifespan_state)
    try:
        try:
            result = await runner.on_request(
                _ExchangeContext(message.id), message.method, message.params
            )
        finally:
            await connection.exit_stack.aclose()
    except Exception as error:  # the SDK dispatcher's exception-to-wire mapping
        data = handler_exception_to_error_data(error)
        if data is None:
            logger.exception("MCP handler for %r raised", message.method)
            data = types.ErrorData(code=0, message=str(error))
        reply = types.JSONRPCError(jsonrpc="2.0", id=message.id, error=data)
        content = reply.model_dump_json(by_alias=True, exclude_unset=True).encode()
    else:
        # The result is the SDK's wire form already (the kernel serialized it): the envelope
        # around it is written as JSONRPCResponse.model_dump_json writes it, without validating
        # the result a second time.
        content = pydantic_core.to_json({"jsonrpc": "2.0", "id": message.id, "result": result})
    return 200, [(b"content-type", b"application/json")], content


async def _serve(kept: "_Kept", scope: dict, body: bytes) -> tuple[int, list, bytes]:
    """One stateless Streamable HTTP exchange through the SDK's own transport."""
    sent = {"status": 500, "headers": [], "body": []}
    delivered = False

    async def receive():
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
            sent["headers"] = message.get("headers", [])
        elif message["type"] == "http.response.body":
            sent["body"].append(message.get("body", b""))

    await kept.manager.handle_request(scope, receive, send)
    return sent["status"], sent["headers"], b"".join(sent["body"])


@dataclass(frozen=True)
class _Kept:
    """What a request thread keeps on its loop: the SDK's session manager, running, and the
    server's lifespan state. In stateless mode a manager serves every request with a fresh
    transport; entering a manager's run() per request cost a task group and the server's
    lifespan each time."""

    manager: StreamableHTTPSessionManager
    lifespan_state: object


@contextlib.asynccontextmanager
async def _sdk():
    manager = StreamableHTTPSessionManager(
        app=server, json_response=True, stateless=True, security_settings=None
    )
    async with server.lifespan(server) as lifespan_state, manager.run():
        yield _Kept(manager, lifespan_state)


bridge = Bridge(_sdk)


class _Challenge(ProtectedResourceMetadataMixin):
    """django-oauth-toolkit's RFC 6750 / RFC 9728 challenge, pointing at /mcp's own
    protected-resource metadata (the path-suffixed form MCP clients read first)."""

    def get_resource_metadata_url(self, request):
        return resource_metadata_url(request)


_challenge = _Challenge()


ASK_FOR_BEARER = "Send an access token as 'Authorization: Bearer …'."
NOT_VALID = "The access token is not valid, expired or was revoked."


def _unauthorized(request, description: str) -> HttpResponse:
    """401 with django-oauth-toolkit's `WWW-Authenticate: Bearer` challenge, pointing at the
    resource metadata (RFC 9728 §5.1); `error="invalid_token"` for a token that is not valid,
    no error code for a request that sent none (RFC 6750 §3.1). The body says the same."""
    error = {"error": "invalid_token", "error_description": description}
    challenged = None if description == ASK_FOR_BEARER else error
    response = _challenge.unauthenticated_response(
        request, SimpleNamespace(oauth2_error=challenged)
    )
    response["Content-Type"] = "application/json"
    response.content = json.dumps(error)
    return response


def _jsonrpc_error(status: int, code: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}, status=status
    )


def _has_invalid_id(body: bytes) -> bool:
    """Whether the message carries an `id` that is not a string or an integer (MCP
    "Requests": never null; JSON-RPC 2.0 §4: never an object or array). The SDK's transport
    takes such a message for a notification and answers 202 with nothing; JSON-RPC 2.0 §5
    wants an Invalid Request error with a null id. Bodies that are not one JSON object are
    left to the transport's own errors."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(message, dict) or "id" not in message:
        return False
    request_id = message["id"]
    return isinstance(request_id, bool) or not isinstance(request_id, str | int)


def _header(request, name: str) -> str:
    return request.META.get(name, "").replace("\x00", "")[:200]


@csrf_exempt
def mcp_endpoint(request):
    """`/mcp`: POST only (405 otherwise: stateless JSON responses, no server-sent stream to
    GET, no session to DELETE), then the bearer token (a 401 pointing at the resource
    metadata), then the client's throttle (429 with Retry-After), then the body's bound, then
    the SDK's transport answers: JSON-RPC errors for what is not JSON-RPC, MCP tool errors for
    bad arguments. All after the method and the header's form run in one drive of the thread's
    loop (`_exchange`)."""
    if request.method != "POST":
        response = _jsonrpc_error(405, types.INVALID_REQUEST, "Send JSON-RPC messages by POST.")
        response["Allow"] = "POST"
        return response
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return _unauthorized(request, ASK_FOR_BEARER)
    verifier = HubTokenVerifier(resource=hub_resource(request), run_sync=bridge.run_sync)
    return bridge.call(_exchange, verifier, credentials.strip(), request)


async def _exchange(kept: _Kept, verifier: HubTokenVerifier, token: str, request) -> HttpResponse:
    """The token, the throttle, the bound and the SDK's answer, in that order, in one drive of
    the loop: the steps between the verifier and the SDK read memory, Redis and the request
    body, never the ORM (a client's last use, written once a minute, goes through
    `bridge.run_sync`). One drive instead of one for the verifier and one for the SDK."""
    access = await verifier.verify_token(token)
    if access is None:
        return _unauthorized(request, NOT_VALID)
    caller = access.caller
    now = timezone.now()
    if mcp_client_touch_due(application_id=caller.application_id, now=now):
        await bridge.run_sync(mcp_client_touch, application_id=caller.application_id, now=now)
    wait = _throttle.wait_if_over(str(caller.application_id))
    if wait is not None:
        response = _jsonrpc_error(429, SERVER_BUSY, "Too many requests for this connection.")
        response["Retry-After"] = str(wait)
        return response
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REQUEST_BYTES:
        return _jsonrpc_error(413, types.INVALID_REQUEST, "The request body is too large.")
    body = request.body
    if len(body) > MAX_REQUEST_BYTES:
        return _jsonrpc_error(413, types.INVALID_REQUEST, "The request body is too large.")
    context = OpenAIContext(
        conversation_id=_header(request, "HTTP_OPENAI_CONVERSATION_ID"),
        ephemeral_user_id=_header(request, "HTTP_OPENAI_EPHEMERAL_USER_ID"),
        gpt_id=_header(request, "HTTP_OPENAI_GPT_ID"),
    )
    # Read by the tool (`_call_tool`), in this task or the tasks the SDK starts from it.
    reset = _caller.set((caller, context, len(body) <= MAX_BODY_CHARACTERS))
    try:
        plain = _plain_tool_call(meta, body)
        if plain is not None:
            status, response_headers, content = await _serve_tool_call(kept, *plain)
        elif _has_invalid_id(body):
            return _jsonrpc_error(
                400, types.INVALID_REQUEST, "A request id is a string or integer."
            )
        else:
            status, response_headers, content = await _serve(kept, _scope(request, body), body)
    finally:
        _caller.reset(reset)
    response = HttpResponse(content, status=status)
    for key, value in response_headers:
        name = key.decode("latin-1")
        if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
            response[name] = value.decode("latin-1")
    return response


def _scope(request, body: bytes) -> dict:
    """The ASGI scope of this request, for the SDK's transport."""
    headers = [
        (key[5:].replace("_", "-").lower().encode("latin-1"), value.encode("latin-1", "replace"))
        for key, value in request.META.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    ]
    if request.META.get("CONTENT_TYPE"):
        headers.append((b"content-type", request.META["CONTENT_TYPE"].encode("latin-1", "replace")))
    headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (request.META.get("REMOTE_ADDR", ""), 0),
        "server": (request.get_host(), 0),
    }
