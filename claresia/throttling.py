"""Throttling in one place (PostHog's `rate_limit.py` is the model: one rate format, one counter):

- `parse_rate`: the one reader of a rate, DRF's format ("<requests>/<s|m|h|d>…", e.g.
  "6000/min"), for the hub token throttle (a DRF throttle, `telemetry/hub/auth.py`) and the
  plain views' window throttle (`WindowThrottle`: the hub's plain path, /mcp, client
  registration);
- the fixed-window counter in the Redis behind Django's cache (`WindowLeases.admit`): one
  command and one reply per request, or per lease of a few slots for a key busy in a process;
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


# INCRBY takes `amount` slots; the window's first taker gives the key its expiry (the key did
# not exist iff the count is the amount). A script runs atomically in Redis, so a key never
# lives without expiry.
SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
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
    def add(self, key: str, amount: int, *, timeout: int) -> int:
        """Add `amount` to `key` and return its count; the key expires `timeout` s after its
        first addition."""
        connection = self._connection()
        try:
            return self._evalsha(connection, key, amount, timeout)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError):
            # A connection the server or the network dropped: one fresh try, then it raises.
            connection.disconnect()
            return self._evalsha(connection, key, amount, timeout)

    @staticmethod
    def _evalsha(connection, key: str, amount: int, timeout: int) -> int:
        connection.send_command("EVALSHA", SCRIPT_SHA, 1, key, timeout, amount)
        try:
            return int(connection.read_response())
        except redis_errors.NoScriptError:
            # The server restarted or flushed its scripts: load it again, once.
            connection.send_command("SCRIPT", "LOAD", SCRIPT)
            connection.read_response()
            connection.send_command("EVALSHA", SCRIPT_SHA, 1, key, timeout, amount)
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


def _add_with_cache_api(key: str, amount: int, *, timeout: float) -> int:
    try:
        return cache.incr(key, amount)
    except ValueError:
        # First taker of the window (add is atomic: a concurrent first one counts on).
        if cache.add(key, amount, timeout=timeout):
            return amount
        return cache.incr(key, amount)


def _shared_add(window_key: str, amount: int, *, timeout: int) -> int:
    """Add `amount` to the window's shared count (Redis behind Django's cache, else the cache
    API) and return the count; raises RedisError when the cache is unreachable."""
    counter = _redis_counter()
    if counter is None:
        return _add_with_cache_api(window_key, amount, timeout=timeout)
    # make_key, not make_and_validate_key: the key is ours, short and ASCII.
    return counter.add(cache.make_key(window_key), amount, timeout=timeout)


# ---- leases: a busy key's slots taken a few at a time ----------------------------------------
#
# A fixed window admits `rate.requests` calls of a key across every process. Counting each call
# in Redis costs a round trip a call (~100 µs of CPU between the process, Redis and the kernel:
# a tenth of a hub call; README, "Where a hub call's time goes"). A process that has already
# seen LEASE_AFTER calls of a key in the current window takes its next slots several at a time
# (a lease: INCRBY n, at most LEASE_MAX and never more than 1/LEASE_SHARE of the rate) and
# spends them without asking Redis. What the shared count says is what was taken, so **no more
# than the rate is ever admitted**, by any number of processes. The cost is the other way: slots
# a process leased and did not use before the window ended are lost to the others (at most
# LEASE_MAX − 1 per process and key and window, and only where the key is busy in that
# process); in the window's last tenth of its budget every process takes one slot at a time
# again, so a key at its limit is refused as exactly as before. A key of a small rate
# (registration: 20 an hour) or a quiet one (fewer than LEASE_AFTER calls a window in a
# process) is counted one call at a time, exactly as without leases.

LEASE_AFTER = 8
LEASE_MAX = 16
LEASE_SHARE = 100
# The share of a window's budget, at its end, that is counted one call at a time.
LEASE_TAIL = 10
# A bound on the keys a process remembers (leases of past windows are dropped first).
MAX_LEASED_KEYS = 10_000


class _Lease:
    __slots__ = ("left", "near_limit", "seen", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.seen = 0  # calls of the key this process asked about in this window
        self.left = 0  # slots taken from the shared count and not spent yet
        self.near_limit = False  # the shared count reached the window's last tenth


class WindowLeases:
    """One process's leases, per key (module-level `leases`; tests make their own to stand for
    other processes). Thread-safe: gthread workers share it."""

    def __init__(self, *, add=_shared_add) -> None:
        self._add = add
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, rate: Rate, *, now: float | None = None) -> tuple[bool, float]:
        """Whether one more call of `key` is within `rate` in the current fixed window, and when
        the window ends. Admits when the shared count is unreachable (throttles fail open)."""
        now = time.time() if now is None else now
        window = int(now // rate.seconds)
        window_end = float((window + 1) * rate.seconds)
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.window != window:
                if len(self._leases) >= MAX_LEASED_KEYS:
                    self._forget_before(window)
                lease = self._leases[key] = _Lease(window)
            lease.seen += 1
            if lease.left > 0:
                lease.left -= 1
                return True, window_end
            amount = self._amount(rate, lease)
        try:
            count = self._add(f"{key}:{window}", amount, timeout=rate.seconds + 1)
        except RedisError as error:
            # Fail open: a GPT's record matters more than the throttle while Redis is away.
            logger.warning(
                "hub throttle skipped: the cache is unreachable (%s)", type(error).__name__
            )
            return True, window_end
        # The slots of this addition that are within the rate (all, some at the limit, none).
        granted = max(0, min(amount, rate.requests - (count - amount)))
        with self._lock:
            lease.left += max(0, granted - 1)
            lease.near_limit = lease.near_limit or (
                rate.requests - count <= rate.requests // LEASE_TAIL
            )
        return granted > 0, window_end

    @staticmethod
    def _amount(rate: Rate, lease: _Lease) -> int:
        most = min(LEASE_MAX, rate.requests // LEASE_SHARE)
        if most <= 1 or lease.near_limit or lease.seen <= LEASE_AFTER:
            return 1
        return min(most, lease.seen // LEASE_AFTER)

    def _forget_before(self, window: int) -> None:
        stale = [key for key, lease in self._leases.items() if lease.window < window]
        for key in stale or list(self._leases):
            del self._leases[key]


leases = WindowLeases()


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
        admitted, window_end = leases.admit(f"throttle:{self.scope}:{ident}", rate)
        if admitted:
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
