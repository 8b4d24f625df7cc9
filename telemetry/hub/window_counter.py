"""Counting a key's requests in a fixed window, in the Redis behind Django's cache: one command
and one reply per request (the hub API's per-token throttle, auth.py)."""

import hashlib
import os
import re
import threading

import redis
from django.utils.module_loading import import_string
from redis import exceptions as redis_errors

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
