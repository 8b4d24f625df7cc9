"""The hub throttle's counter in Redis: it survives what Redis does, and a Redis that is away
never costs a GPT its record."""

import contextlib
import signal
import socket
import threading

import pytest
import redis as redis_py
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache

from claresia.throttling import cache_write_pool
from telemetry.hub.models import HubRecord
from tests.telemetry.helpers import post_record as post

pytestmark = pytest.mark.django_db

# The throttle's Redis timeout is a fraction of a second, tried twice: far below this bound,
# and far below the 10 s a hub call used to wait (redis-py waits for ever by default).
THROTTLE_GIVES_UP_WITHIN = 5.0
BODY = {"skill_id": "incident-postmortem", "output": "## Summary\nThe database failed over."}


@pytest.fixture
def redis():
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        pytest.skip("the suite runs on Redis (make test); this run has another cache")
    client = redis_py.Redis(connection_pool=cache_write_pool(settings.CACHES[DEFAULT_CACHE_ALIAS]))
    yield client
    client.close()


def window_count(redis, token) -> int:
    keys = redis.keys(f"*throttle:hub_token:{token.pk}:*")
    return sum(int(redis.get(key)) for key in keys)


def test_the_count_goes_on_after_redis_forgets_its_scripts(hub, skill, issued, redis):
    # given
    post(hub, {**BODY, "record_key": "one"})
    redis.script_flush()

    # when
    response = post(hub, {**BODY, "record_key": "two"})

    # then
    assert response.status_code == 201
    assert window_count(redis, issued.token) == 2


def test_the_count_goes_on_after_redis_drops_the_connection(hub, skill, issued, redis):
    # given: the server closes every other client's connection, the throttle's included
    post(hub, {**BODY, "record_key": "one"})
    redis.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")

    # when
    response = post(hub, {**BODY, "record_key": "two"})

    # then
    assert response.status_code == 201
    assert window_count(redis, issued.token) == 2


def test_an_unreachable_redis_lets_the_record_through_and_says_so(hub, skill, settings, caplog):
    # given: the cache points at a port where nothing listens
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/15",
        }
    }

    # when
    response = post(hub, BODY)

    # then
    assert response.status_code == 201
    assert HubRecord.objects.count() == 1
    assert "hub throttle skipped: the cache is unreachable" in caplog.text


@pytest.fixture
def frozen_redis():
    """A server that accepts connections and never answers, as a Redis stuck in a fork."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_frozen_redis_lets_the_record_through_at_once_and_says_so(
    hub, skill, settings, caplog, frozen_redis
):
    # given: the cache points at a Redis that accepts and never answers
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{frozen_redis}/15",
        }
    }

    # when the GPT posts its record (an alarm turns a hang into this test's failure)
    def hung(signum, frame):
        raise AssertionError("the hub call waited on the frozen Redis")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, THROTTLE_GIVES_UP_WITHIN)
    try:
        response = post(hub, BODY)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    # then the throttle gave up on Redis within its short timeout, and the record is stored
    assert response.status_code == 201
    assert "hub throttle skipped: the cache is unreachable (TimeoutError)" in caplog.text


def test_the_counter_connects_to_the_server_the_cache_writes_to():
    # given the settings of a cache on two servers (Django writes to the first) with options
    cache_settings = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://10.0.0.1:6379/3;redis://10.0.0.2:6379/3",
        "OPTIONS": {
            "pool_class": "redis.BlockingConnectionPool",
            "serializer": "django.core.cache.backends.redis.RedisSerializer",
            "socket_timeout": 2,
        },
    }

    # when the throttle's pool is made from them (nothing connects yet)
    pool = cache_write_pool(cache_settings)

    # then it is Django's kind of pool, to the first server, with the options
    assert isinstance(pool, redis_py.BlockingConnectionPool)
    assert pool.connection_kwargs["host"] == "10.0.0.1"
    assert pool.connection_kwargs["db"] == 3
    assert pool.connection_kwargs["socket_timeout"] == 2
