"""Throttling in one place (PostHog's `rate_limit.py` is the model: one rate format, one counter):

- `parse_rate`: the one reader of a rate, DRF's format ("<requests>/<s|m|h|d>…", e.g.
  "6000/min"), for the hub token throttle (a DRF throttle, `telemetry/hub/auth.py`) and the
  plain views' window throttle (`WindowThrottle`: the hub's plain path, /mcp, client
  registration);
- the fixed-window counter in the Redis behind Django's cache (`window_count`): one command and
  one reply per request;
- the login throttle's two project-specific pieces (django-axes does the counting, settings.py
  sets the limits): which address a login comes from, and the page a locked-out login gets.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import os
import re
import threading
import time
from typing import NamedTuple

import redis
from django.conf import settings
from django.contrib import admin
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.module_loading import import_string
from redis import exceptions as redis_errors
from redis.exceptions import RedisError
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)

# DRF's periods (rest_framework.throttling.SimpleRateThrottle.parse_rate reads the first letter).
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Rate(NamedTuple):
    requests: int
    seconds: int


def parse_rate(rate: str | None) -> Rate | None:
    """A rate from settings ("6000/min", "20/hour", "5/s"); None for no rate (no throttle).
    A malformed rate raises ValueError: settings are the deployment's, and a typo must not turn
    a throttle off silently."""
    if rate is None:
        return None
    number, _, period = rate.partition("/")
    if not number.strip().isdigit() or not period or period[0] not in PERIOD_SECONDS:
        raise ValueError(f"throttle rate {rate!r} is not <requests>/<s|m|h|d>")
    return Rate(int(number), PERIOD_SECONDS[period[0]])


# INCR counts; the window's first request gives the key its expiry. A script runs atomically in
# Redis, so a key never lives without expiry.
SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Seconds the throttle waits on Redis per try (it tries twice); a Redis round trip takes ~0.1 ms.
THROTTLE_REDIS_TIMEOUT = 0.25
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


class ThreadRedis:
    """Each thread keeps one connection of the pool's settings for its whole life (gunicorn's
    threads are long-lived). Borrowing one from redis-py's pool per call costs a poll() and
    bookkeeping: about a third of the call (bench_hub)."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self._local = threading.local()

    def _connection(self):
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():  # a forked child makes its own
            held = self._local.held = (os.getpid(), self.pool.make_connection())
        return held[1]

    def command(self, *args):
        """One command and its reply on this thread's connection (a dropped connection is
        tried once more, then it raises)."""
        connection = self._connection()
        try:
            connection.send_command(*args)
            return connection.read_response()
        except (redis_errors.ConnectionError, redis_errors.TimeoutError):
            connection.disconnect()
            connection.send_command(*args)
            return connection.read_response()


class RedisWindowCounter(ThreadRedis):
    def count(self, key: str, *, timeout: int) -> int:
        """Add one to `key` and return its count; the key expires `timeout` s after its first."""
        connection = self._connection()
        try:
            return self._evalsha(connection, key, timeout)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError):
            # A connection the server or the network dropped: one fresh try, then it raises.
            connection.disconnect()
            return self._evalsha(connection, key, timeout)

    @staticmethod
    def _evalsha(connection, key: str, timeout: int) -> int:
        connection.send_command("EVALSHA", SCRIPT_SHA, 1, key, timeout)
        try:
            return int(connection.read_response())
        except redis_errors.NoScriptError:
            # The server restarted or flushed its scripts: load it again, once.
            connection.send_command("SCRIPT", "LOAD", SCRIPT)
            connection.read_response()
            connection.send_command("EVALSHA", SCRIPT_SHA, 1, key, timeout)
            return int(connection.read_response())


def cache_write_pool(cache_settings: dict) -> redis.ConnectionPool:
    """A connection pool to the server a Django RedisCache with these `CACHES` settings writes
    to: the first of LOCATION's servers, OPTIONS as pool options (serializer aside), as Django
    builds its own pool. Django keeps its client private; its settings are public."""
    location = cache_settings["LOCATION"]
    servers = re.split("[;,]", location) if isinstance(location, str) else location
    options = dict(cache_settings.get("OPTIONS") or {})
    options.pop("serializer", None)
    # A frozen Redis (accepting, never answering) must cost a call a fraction of a second, not
    # redis-py's default of waiting for ever: the throttle then fails open (auth.py).
    options.setdefault("socket_timeout", THROTTLE_REDIS_TIMEOUT)
    options.setdefault("socket_connect_timeout", THROTTLE_REDIS_TIMEOUT)
    pool_class = options.pop("pool_class", None) or redis.ConnectionPool
    if isinstance(pool_class, str):
        pool_class = import_string(pool_class)
    parser_class = options.pop("parser_class", None)
    if isinstance(parser_class, str):
        parser_class = import_string(parser_class)
    options["parser_class"] = parser_class or redis.connection.DefaultParser
    return pool_class.from_url(servers[0], **options)


# ---- the window counter on Django's cache, and the plain views' throttle ---------------------


def _redis_counter() -> RedisWindowCounter | None:
    """The window counter on the Redis behind Django's cache, or None for another backend
    (local runs)."""
    backend = caches[DEFAULT_CACHE_ALIAS]  # `cache` is a proxy: ask for the backend itself
    if not isinstance(backend, RedisCache):
        return None
    return _counter_of(backend)


@functools.lru_cache(maxsize=256)
def _counter_of(backend: RedisCache) -> RedisWindowCounter:
    # One counter per backend object: Django makes new ones when CACHES changes (and per thread).
    return RedisWindowCounter(cache_write_pool(settings.CACHES[DEFAULT_CACHE_ALIAS]))


def _count_with_cache_api(key: str, *, timeout: float) -> int:
    try:
        return cache.incr(key)
    except ValueError:
        # First request of the window (add is atomic: a concurrent first one counts on).
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)


def window_count(key: str, *, duration: int) -> tuple[int | None, float]:
    """Count one request of `key` in the current fixed window of `duration` seconds, in the
    shared cache: (the window's count so far, when the window ends). The count is None when
    the cache is unreachable: throttles fail open."""
    now = time.time()
    window = int(now // duration)
    window_end = (window + 1) * duration
    window_key = f"{key}:{window}"
    try:
        counter = _redis_counter()
        if counter is not None:
            # make_key, not make_and_validate_key: the key is ours, short and ASCII.
            count = counter.count(cache.make_key(window_key), timeout=int(duration) + 1)
        else:
            count = _count_with_cache_api(window_key, timeout=duration + 1)
    except RedisError as error:
        # Fail open: a GPT's record matters more than the throttle while Redis is away.
        logger.warning("hub throttle skipped: the cache is unreachable (%s)", type(error).__name__)
        return None, window_end
    return count, window_end


class WindowThrottle:
    """The hub token throttle's counting for a plain Django view (/mcp, client registration):
    the rate is read at call time from DEFAULT_THROTTLE_RATES[scope], as DRF's throttles do."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def wait_if_over(self, ident: str) -> int | None:
        """Count a request of `ident`; the seconds to wait when it is over the rate, else None."""
        rate = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        if rate is None:
            return None
        key = f"throttle:{self.scope}:{ident}"
        count, window_end = window_count(key, duration=rate.seconds)
        if count is None or count <= rate.requests:
            return None
        return max(1, int(window_end - time.time()) + 1)


# ---- the login throttle (django-axes) ---------------------------------------------------------


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the one the outermost of `TRUSTED_PROXY_COUNT` proxies saw.

    Each proxy appends the address of its peer to X-Forwarded-For, so with N proxies the N-th
    entry from the right is the client's; entries left of it are the client's to forge. A
    request that did not pass through every proxy (too few entries, or not an address) counts
    as coming from its peer, REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < proxies or not _is_address(forwarded[-proxies]):
        return remote
    return forwarded[-proxies]


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The admin-styled page a login gets while its account and address are locked out."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        **admin.site.each_context(request),
        "title": "Login locked",
        "minutes": math.ceil(cool_off.total_seconds() / 60),
    }
    response: HttpResponse = TemplateResponse(
        request, "admin/login_locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    return response.render()
