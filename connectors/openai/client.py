"""The one OpenAI HTTP client: base URL, auth and organization headers, timeouts, OpenAI's
retry policy, list pagination and typed errors (`shared/contracts/openai-enterprise-api.md`).

It speaks to two hosts (`Host`): the seed's Platform host (`OPENAI_API_BASE`) and the real
Compliance API host (`CHATGPT_ADMIN_API_BASE`, `shared/contracts/chatgpt-admin-api.md`), with
the same retries and error mapping; on the real host it sends no organization header, maps
errors by status only, and takes each request's slot from the per-workspace, per-route pacer
that every process shares (`connectors.openai.pacing`).

Every call to OpenAI in the project goes through `OpenAIClient.request` (or `.log_file` for a
Logs Platform download); the paths live in `connectors.openai.endpoints` (the seed's) and
`connectors.openai.compliance` (the real Compliance API).
"""

import logging
import random
import ssl
import time
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
        return self._send("GET", path, route=route, redirect=True)

    @contextmanager
    def log_file(self, path: str, *, route: str) -> Iterator[httpx.Response]:
        """Open a Logs Platform file as a stream: `GET path` answers 307 to a short-lived
        signed URL on another host, which is followed at once **without** the Authorization
        header (chatgpt-admin-api.md → Compliance Logs Platform). The body is not read: the
        caller iterates it."""
        location = self.log_file_location(path, route=route)
        # A bare client: none of this client's headers (the key) ever reach the signed host.
        with httpx.Client(timeout=self._timeout, transport=self._transport, verify=_tls()) as bare:
            try:
                with bare.stream("GET", location) as response:
                    if response.status_code >= 400:
                        raise UnavailableError(
                            f"the log file's signed URL answered HTTP {response.status_code}",
                            status=response.status_code,
                        )
                    yield response
            except httpx.TransportError as exc:
                raise UnavailableError(f"log file download: {_transport_reason(exc)}") from None

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

    def _redirect_outcome(self, response: httpx.Response, attempt: int) -> str | OpenAIError:
        status = response.status_code
        if status in REDIRECT_STATUSES and response.headers.get("location"):
            return str(response.url.join(response.headers["location"]))
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
