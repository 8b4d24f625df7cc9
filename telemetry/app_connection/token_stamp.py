"""The MCP token stamp: one value in the cache shared by every web process (Redis in
production), replaced by a fresh random one whenever an OAuth access token or an MCP client
changes or goes (a revocation, a refresh, a disconnect).

A process remembers a token it verified together with the stamp it read *before* asking the
database; a later call trusts that memory only while the stamp is still the same. So a token
revoked in any process fails its very next call in every process, at one GET per call instead
of a three-join query (README, "Where a call's time goes"). The stamp is replaced after the
revoking transaction commits as well as at once, so a reader that raced the revocation cannot
keep what it read before the commit. Whatever cannot be read (Redis away, no stamp yet) means
"ask the database"."""

import functools
import logging
import secrets

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from redis import Redis
from redis.exceptions import RedisError

from claresia.throttling import ThreadRedis, cache_write_pool

logger = logging.getLogger(__name__)

STAMP_KEY = "mcp:token-stamp"


@functools.lru_cache(maxsize=256)
def _redis_of(backend: RedisCache) -> ThreadRedis:
    # One per backend object, as the throttle's counter (auth.py).
    return ThreadRedis(cache_write_pool(settings.CACHES[DEFAULT_CACHE_ALIAS]))


def _redis() -> ThreadRedis | None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    return _redis_of(backend) if isinstance(backend, RedisCache) else None


def current() -> str | None:
    """The stamp now, or None when there is none yet or the cache cannot be read."""
    try:
        redis = _redis()
        if redis is None:
            return cache.get(STAMP_KEY)
        value = redis.command("GET", cache.make_key(STAMP_KEY))
    except RedisError:
        return None
    return value.decode("ascii") if value is not None else None


def _write(*, only_if_absent: bool) -> None:
    value = secrets.token_hex(16)
    redis = _redis()
    if redis is None:
        if only_if_absent:
            cache.add(STAMP_KEY, value, timeout=None)
        else:
            cache.set(STAMP_KEY, value, timeout=None)
        return
    client = Redis(connection_pool=redis.pool)
    client.set(cache.make_key(STAMP_KEY), value, nx=only_if_absent)


def start() -> None:
    """Give the cache a stamp if it has none (first use, or Redis lost its data)."""
    try:
        _write(only_if_absent=True)
    except RedisError:
        return


def _replace() -> None:
    try:
        _write(only_if_absent=False)
    except RedisError as error:
        # Other processes then keep what they remember until it expires
        # (hotcache.HOT_CACHE_SECONDS); this process forgot it already.
        logger.error(
            "MCP token stamp not replaced: the cache is unreachable (%s)", type(error).__name__
        )


def replace() -> None:
    """A token or client changed: every process's memory of verified tokens is void, now and
    again once the current transaction commits."""
    _replace()
    transaction.on_commit(_replace)
