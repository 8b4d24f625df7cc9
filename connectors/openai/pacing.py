"""Pacing the ChatGPT admin API (`CHATGPT_ADMIN_API_BASE`) across every process that calls it.

The API allows "100 requests per minute per workspace, per method and route" and answers more
with a 429 and `Retry-After` (chatgpt-admin-api.md → Credentials and errors). The web process
(Test connection, inventory reads) and every worker's polls call it for the same workspace, so
the limit is kept in one place they all see: one sliding window per (workspace or organization,
method, route template) in Redis, taken slot by slot by an atomic Lua script that reads Redis's
own clock (no process's clock skew matters). A 429's `Retry-After` pauses that key for every
process.

When Redis cannot be reached the pacer fails open, as the hub's throttle does: one warning line
(at most one a minute per process) and the process-local window (`RoutePacer`) for that call, so
a Redis outage slows no poll and at worst lets processes together exceed the limit, which the
API's 429 and the client's retries then absorb.
"""

import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

KEY_PREFIX = "claresia:pace:"
# A request is counted by the API when it arrives, its slot here before it leaves: the window
# is held this much longer, so that a slot freed here is free there too.
TRANSIT_MARGIN = 0.5
# Seconds a Redis call may take before the pacer fails open (a round trip takes ~0.1 ms).
REDIS_TIMEOUT = 0.25
# At most one "Redis is away" line per process in this many seconds.
WARN_EVERY = 60.0

# KEYS[1] the route's window (a sorted set of slots scored by their time, ms), KEYS[2] its
# pause; ARGV: limit, window (ms), a unique slot name. Returns 0 when a slot was taken, else the
# milliseconds to wait before asking again.
TAKE_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""
# KEYS[1] the route's pause; ARGV[1] milliseconds. A pause is only ever lengthened.
PAUSE = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return left
"""


class RoutePacer:
    """The process-local window: at most `per_window` requests per key in any sliding `window`
    seconds, and a key paused by a 429 waits out its `Retry-After`. What the shared pacer falls
    back to when Redis is away, and all there is without Redis (the zero-setup local run)."""

    def __init__(
        self,
        per_minute: int = 100,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute, self.window = per_minute, window
        self._clock, self._sleep = clock, sleep
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._paused: dict[str, float] = {}
        self._lock = threading.Lock()

    def delay(self, key: str) -> float:
        """Take a slot on `key` and return 0, or return the seconds to wait before asking again."""
        with self._lock:
            now = self._clock()
            paused = self._paused.get(key, 0.0) - now
            if paused > 0:
                return paused
            sent = self._sent[key]
            while sent and sent[0] <= now - self.window:
                sent.popleft()
            if len(sent) < self.per_minute:
                sent.append(now)
                return 0.0
            return sent[0] + self.window - now

    def wait(self, key: str) -> float:
        """Block until one more request on `key` fits; return the time waited."""
        waited = 0.0
        while (delay := self.delay(key)) > 0:
            self._sleep(delay)
            waited += delay
        return waited

    def pause(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            self._paused[key] = max(self._paused.get(key, 0.0), until)


class SharedRoutePacer:
    """The same window, kept in Redis for every process (module docstring)."""

    def __init__(
        self,
        client: redis.Redis,
        per_minute: int = 100,
        *,
        window: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute, self.window = per_minute, window
        self._sleep = sleep
        self._take = client.register_script(TAKE_SLOT)
        self._pause = client.register_script(PAUSE)
        self.local = RoutePacer(per_minute, window=window, sleep=sleep)
        self._warned_at = -WARN_EVERY

    @staticmethod
    def _keys(key: str) -> list[str]:
        # One hash tag for both keys: a Redis Cluster keeps them on one node for the script.
        return [f"{KEY_PREFIX}{{{key}}}:slots", f"{KEY_PREFIX}{{{key}}}:pause"]

    def delay(self, key: str) -> float:
        window_ms = int((self.window + TRANSIT_MARGIN) * 1000)
        try:
            waited_ms = self._take(
                keys=self._keys(key), args=[self.per_minute, window_ms, uuid.uuid4().hex]
            )
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
            self._redis_away(exc)
            return self.local.delay(key)
        return int(waited_ms) / 1000.0

    def wait(self, key: str) -> float:
        waited = 0.0
        while (delay := self.delay(key)) > 0:
            self._sleep(delay)
            waited += delay
        return waited

    def pause(self, key: str, seconds: float) -> None:
        """Pause `key` for every process (a 429's `Retry-After`)."""
        self.local.pause(key, seconds)
        try:
            self._pause(keys=self._keys(key)[1:], args=[max(1, int(seconds * 1000))])
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
            self._redis_away(exc)

    def _redis_away(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "ChatGPT admin API pacing: Redis unreachable (%s); pacing per process until it "
                "answers",
                type(exc).__name__,
            )


@cache
def _shared(url: str, per_minute: int, window: float) -> SharedRoutePacer:
    # One per process and settings: redis-py's pool is thread-safe and reconnects after a fork.
    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    return SharedRoutePacer(client, per_minute, window=window)


def admin_route_pacer(
    *, sleep: Callable[[float], None] = time.sleep
) -> RoutePacer | SharedRoutePacer:
    """The pacer a ChatGPT admin client takes its slots from: the process's shared one when
    `CHATGPT_ADMIN_PACING_REDIS_URL` names a Redis, else a window of the client's own."""
    per_minute = settings.CHATGPT_ADMIN_RATE_LIMIT
    window = float(settings.CHATGPT_ADMIN_RATE_WINDOW)
    url = settings.CHATGPT_ADMIN_PACING_REDIS_URL
    if url:
        return _shared(url, per_minute, window)
    return RoutePacer(per_minute, window=window, sleep=sleep)
