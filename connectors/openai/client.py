"""The one OpenAI HTTP client: base URL, auth and organization headers, timeouts, OpenAI's
retry policy, list pagination and typed errors (`shared/contracts/openai-enterprise-api.md`).

It speaks to two hosts (`Host`): the seed's Platform host (`OPENAI_API_BASE`) and the real
Compliance API host (`CHATGPT_ADMIN_API_BASE`, `shared/contracts/chatgpt-admin-api.md`), with
the same retries and error mapping; on the real host it sends no organization header, maps
errors by status only, and takes each request's slot from the per-workspace, per-route pacer
that every process shares (`connectors.openai.pacing`).

Every call to OpenAI in the project goes through `OpenAIClient.request` (or `.log_file` for a
Logs Platform download); the paths live in `connectors.openai.modelled` (the seed's) and
`connectors.openai.chatgpt_admin` (the real Compliance API).
"""

import ipaddress
import logging
import random
import socket
import ssl
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import httpx
import orjson
from django.conf import settings

from connectors.openai.errors import (
    LogFileRefusedError,
    LogFileTooLargeError,
    MalformedListError,
    OpenAIError,
    RateLimitedError,
    UnavailableError,
    admin_error_for,
    error_for,
)
from connectors.openai.pacing import RoutePacer, SharedRoutePacer, admin_route_pacer

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 429})
# A 409 that names a real conflict is an answer, not a transient lock: never retried.
FINAL_CONFLICT_CODES = frozenset({"gpt_name_taken"})
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process for every client: building one loads the CA bundle, ~80 ms
    of CPU, which a poll paid for its client and again for each log file's download (half of a
    poll's time, profiled in one process). A context is safe to share between threads."""
    return httpx.create_ssl_context()


class Host(StrEnum):
    """Which OpenAI host a client talks to."""

    PLATFORM = "platform"  # the seed's surface: openai-enterprise-api.md
    CHATGPT_ADMIN = "chatgpt_admin"  # the real Compliance API: chatgpt-admin-api.md


@dataclass(frozen=True)
class RetryPolicy:
    """OpenAI's SDK policy: honour Retry-After up to 120 s, else exponential backoff with
    jitter; a bounded number of attempts."""

    max_attempts: int = 3
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and 0 < retry_after <= self.max_retry_after:
            return retry_after
        backoff = min(self.initial_backoff * 2 ** (attempt - 1), self.max_backoff)
        return backoff * (1 - 0.25 * random.random())


DEFAULT_RETRY = RetryPolicy()


def _retry_after_seconds(response: httpx.Response) -> float | None:
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            continue
    return None


def _error_body(response: httpx.Response) -> dict | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    text = str(exc).lower()
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("temporary failure in name resolution" in text)
    ):
        return "could not resolve the host name"
    if "refused" in text:
        return "connection refused"
    return f"connection failed ({type(exc).__name__})"


# A log file's body is decoded in steps of at most this many bytes (zlib's max_length), so a
# gzip that inflates a thousandfold never lands in memory at once.
DECODE_STEP = 256 * 1024


def _address_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


def signed_url_refusal(location: str | httpx.URL) -> str:
    """Why a log file's signed URL (its 307's Location) may not be followed, or "": it must be
    HTTPS to public addresses only, never loopback, a private network or a link-local address
    such as 169.254.169.254 (a cloud's metadata service). `LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP` lifts
    this for the sandbox, which serves its signed URLs over plain http on loopback."""
    if settings.LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP:
        return ""
    url = httpx.URL(location)
    if url.scheme != "https":
        return f"its signed URL is not HTTPS ({url.scheme or 'no scheme'}://{url.host})"
    host = url.host
    try:
        addresses = {host} if _is_ip(host) else _resolve(host, url.port or 443)
    except OSError:
        return f"its signed URL's host {host} could not be resolved"
    private = sorted(a for a in addresses if not _address_public(a))
    if private or not addresses:
        return f"its signed URL's host {host} is not a public address ({', '.join(private)})"
    return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def _peer_refusal(response: httpx.Response) -> str:
    """Why the address the download actually connected to is refused, or "": checked after the
    connection, so a name that resolved to a public address and then to a private one (DNS
    rebinding) is still refused before its body is read. Behind an outgoing proxy (HTTPS_PROXY)
    the peer is the proxy, so only the name's check above applies."""
    if settings.LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP or _proxied():
        return ""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return ""
    return "" if _address_public(str(peer[0])) else f"it connected to {peer[0]}, not public"


def _proxied() -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get("https") or proxies.get("all"))


class _BoundedDecoder:
    """A log file's `Content-Encoding` undone step by step (at most DECODE_STEP bytes a step),
    refused once more than `max_bytes` are decoded (a decompression bomb is stopped there, not
    inflated whole)."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._wbits: int | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._wbits = zlib.MAX_WBITS | 16
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS
        else:
            raise LogFileRefusedError(f"its Content-Encoding {encoding!r} was not asked for")
        self._zlib = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self.max_bytes, self.decoded = max_bytes, 0

    def _count(self, data: bytes) -> bytes:
        self.decoded += len(data)
        if self.decoded > self.max_bytes:
            raise LogFileTooLargeError(
                f"it decodes to more than {self.max_bytes:,} bytes (LOGS_FILE_MAX_BYTES)"
            )
        return data

    def feed(self, raw: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield self._count(raw)
            return
        data = raw
        while data:
            try:
                out = self._zlib.decompress(data, DECODE_STEP)
            except zlib.error:
                raise LogFileRefusedError("its compressed body is corrupt") from None
            if out:
                yield self._count(out)
            if self._zlib.eof and self._zlib.unused_data:  # a gzip of several members
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(self._wbits)
            else:
                data = self._zlib.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        if self._zlib is not None:
            tail = self._zlib.flush()
            if tail:
                yield self._count(tail)


class OpenAIClient:
    def __init__(
        self,
        *,
        api_key: str,
        organization_id: str | None = None,
        host: Host = Host.PLATFORM,
        base_url: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        pacer: RoutePacer | SharedRoutePacer | None = None,
    ) -> None:
        self.retry = retry or DEFAULT_RETRY
        self.host = Host(host)
        self._sleep = sleep
        self._timeout, self._transport = timeout, transport
        self._bare: httpx.Client | None = None  # the log files' downloads (`log_file`)
        headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "claresia-connector/1"}
        if self.host == Host.PLATFORM:
            default_base = settings.OPENAI_API_BASE
            headers["OpenAI-Organization"] = organization_id or ""
            self.pacer = pacer
        else:
            # The real host takes no organization header: the principal is in the path.
            default_base = settings.CHATGPT_ADMIN_API_BASE
            self.pacer = pacer or admin_route_pacer(sleep=sleep)
        self._http = httpx.Client(
            base_url=(base_url or default_base).rstrip("/") + "/",
            headers=headers,
            timeout=timeout,
            transport=transport,
            verify=_tls(),
        )

    def __enter__(self) -> "OpenAIClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        if self._bare is not None:
            self._bare.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        files: Any = None,
        data: Any = None,
        route: str | None = None,
    ) -> dict:
        """Send one call with retries; return the decoded JSON or raise an OpenAIError.

        `route` names the call's method-and-route for the pacer (its path template)."""
        return self._send(
            method,
            path,
            params=params,
            json_body=json_body,
            files=files,
            data=data,
            route=route,
            redirect=False,
        )

    def log_file_location(self, path: str, *, route: str) -> str:
        """The signed URL a Logs Platform download answers with (its 307's Location)."""
        return str(self._send("GET", path, route=route, redirect=True))

    @contextmanager
    def log_file(
        self,
        path: str,
        *,
        route: str,
        max_bytes: int | None = None,
        max_seconds: float | None = None,
    ) -> Iterator[Iterator[bytes]]:
        """Open a Logs Platform file as a stream of decoded chunks: `GET path` answers 307 to a
        short-lived signed URL on another host, which is followed at once **without** the
        Authorization header (chatgpt-admin-api.md → Compliance Logs Platform), only over HTTPS
        to a public address (`signed_url_refusal`). Bounded: at most `max_bytes` decoded
        (`LOGS_FILE_MAX_BYTES`, else LogFileTooLargeError) and `max_seconds` from the first
        request to the last byte (`LOGS_FILE_MAX_SECONDS`, else LogFileRefusedError)."""
        max_bytes = settings.LOGS_FILE_MAX_BYTES if max_bytes is None else max_bytes
        max_seconds = settings.LOGS_FILE_MAX_SECONDS if max_seconds is None else max_seconds
        deadline = time.monotonic() + max_seconds
        # An httpx.URL, parsed once: a signed URL is long, and httpx checks it a character at a
        # time each time it parses it (its redirect, a join, the request, the client's merge).
        location = self._send("GET", path, route=route, redirect=True)
        refusal = signed_url_refusal(location)
        if refusal:
            raise LogFileRefusedError(refusal)
        # A read never waits past the whole download's bound.
        timeout = httpx.Timeout(min(30.0, max_seconds), connect=min(5.0, max_seconds))
        # A bare client: none of this client's headers (the key) ever reach the signed host;
        # it follows no further redirect (each hop would need the same checks). One per client,
        # kept for its files: a poll's downloads reuse its connections to the signed host.
        bare = self._bare_client()
        try:
            with bare.stream(
                "GET", location, headers={"Accept-Encoding": "gzip, deflate"}, timeout=timeout
            ) as response:
                refusal = _peer_refusal(response)
                if refusal:
                    raise LogFileRefusedError(refusal)
                if response.status_code != 200:
                    raise UnavailableError(
                        f"the log file's signed URL answered HTTP {response.status_code}",
                        status=response.status_code,
                    )
                decoder = _BoundedDecoder(response.headers.get("content-encoding", ""), max_bytes)
                yield self._bounded_chunks(response, decoder, deadline, max_seconds)
        except httpx.TransportError as exc:
            if time.monotonic() >= deadline:
                raise self._too_slow(max_seconds) from None
            raise UnavailableError(f"log file download: {_transport_reason(exc)}") from None

    def _bare_client(self) -> httpx.Client:
        if self._bare is None:
            self._bare = httpx.Client(transport=self._transport, verify=_tls())
        return self._bare

    @staticmethod
    def _too_slow(max_seconds: float) -> LogFileRefusedError:
        return LogFileRefusedError(
            f"it took longer than {max_seconds:g} s (LOGS_FILE_MAX_SECONDS); "
            "the next poll downloads it again"
        )

    def _bounded_chunks(
        self,
        response: httpx.Response,
        decoder: _BoundedDecoder,
        deadline: float,
        max_seconds: float,
    ) -> Iterator[bytes]:
        for raw in response.iter_raw(DECODE_STEP):
            if time.monotonic() > deadline:
                raise self._too_slow(max_seconds)
            yield from decoder.feed(raw)
        yield from decoder.finish()

    def _send(self, method, path, *, route=None, redirect=False, **body) -> Any:
        attempt = 0
        while True:
            attempt += 1
            if self.pacer is not None:
                self.pacer.wait(f"{method} {route or path}")
            try:
                response = self._http.request(
                    method,
                    path.lstrip("/"),
                    params=body.get("params"),
                    json=body.get("json_body"),
                    files=body.get("files"),
                    data=body.get("data"),
                )
            except httpx.TransportError as exc:
                failure: OpenAIError = UnavailableError(_transport_reason(exc))
                retry_after = None
            else:
                if redirect:
                    result = self._redirect_outcome(response, attempt)
                else:
                    result = self._outcome(response, attempt)
                if not isinstance(result, OpenAIError):
                    return result
                failure, retry_after = result, _retry_after_seconds(response)
                if response.status_code == 429 and retry_after:
                    self._pause(method, route or path, retry_after)
                if not self._retryable(response, failure):
                    raise failure
            if attempt >= self.retry.max_attempts:
                raise failure
            delay = self.retry.delay(attempt, retry_after)
            logger.info(
                "openai %s %s failed (%s); retry %d in %.2fs",
                method,
                path,
                failure.status or failure.message,
                attempt,
                delay,
            )
            self._sleep(delay)

    def _pause(self, method: str, route: str, seconds: float) -> None:
        """The API's own word on this route: every process waits it out. (A client pacing
        itself alone waits in its own retry below.)"""
        if isinstance(self.pacer, SharedRoutePacer):
            self.pacer.pause(f"{method} {route}", seconds)

    def _redirect_outcome(self, response: httpx.Response, attempt: int) -> httpx.URL | OpenAIError:
        status = response.status_code
        if status in REDIRECT_STATUSES and response.headers.get("location"):
            # httpx has resolved the Location already (the redirect it would follow).
            if response.next_request is not None:
                return response.next_request.url
            return response.url.join(response.headers["location"])
        if status < 400:
            return UnavailableError(
                f"HTTP {status} where a redirect to the log file was expected",
                request_id=response.headers.get("x-request-id"),
            )
        return self._outcome(response, attempt)

    def _outcome(self, response: httpx.Response, attempt: int) -> dict | OpenAIError:
        request_id = response.headers.get("x-request-id")
        status = response.status_code
        if status < 400:
            try:
                # orjson: audit-log pages are decoded at telemetry speed (bench_telemetry).
                body = orjson.loads(response.content)
            except ValueError:
                return UnavailableError("its answer was not JSON", request_id=request_id)
            if not isinstance(body, dict):
                return UnavailableError("its answer was not a JSON object", request_id=request_id)
            return body
        error = _error_body(response)
        if status >= 500:
            return UnavailableError(f"HTTP {status}", status=status, request_id=request_id)
        if status == 429:
            return RateLimitedError(
                (error or {}).get("message", ""),
                status=429,
                code=(error or {}).get("code"),
                request_id=request_id,
                attempts=attempt,
                retry_after=_retry_after_seconds(response),
                host=self.host,
            )
        if self.host == Host.CHATGPT_ADMIN:
            # The real host's errors are known by status only: never by `code`.
            return admin_error_for(status, error or {}, request_id)
        if error is None:
            return UnavailableError(
                f"HTTP {status} with a body that is not OpenAI's error JSON",
                status=status,
                request_id=request_id,
            )
        return error_for(status, error, request_id)

    @staticmethod
    def _retryable(response: httpx.Response, failure: OpenAIError) -> bool:
        if isinstance(failure, UnavailableError):
            return True
        if response.status_code == 409:
            return failure.code not in FINAL_CONFLICT_CODES
        return response.status_code in RETRYABLE_STATUSES

    def paginate(self, path: str, params: list[tuple[str, object]]) -> Iterator[dict]:
        """Yield each page of an OpenAI list, following `after=<last_id>` while `has_more`.

        Raises MalformedListError on a page whose `data` is not a list, or whose `last_id` was
        already followed: a feed that repeats a page must not keep a caller reading for ever.
        """
        query = list(params)
        followed: set[str] = set()
        while True:
            page = self.request("GET", path, params=query)
            if not isinstance(page.get("data", []), list | None):
                raise MalformedListError("its `data` is not a list of items")
            yield page
            last_id = page.get("last_id")
            if not page.get("has_more") or not last_id:
                return
            if not isinstance(last_id, str) or last_id in followed:
                raise MalformedListError(
                    "it served the same page twice (its cursor does not advance)"
                )
            followed.add(last_id)
            query = [(key, value) for key, value in params if key != "after"]
            query.append(("after", last_id))
