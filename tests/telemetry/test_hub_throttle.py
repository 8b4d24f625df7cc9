"""The hub throttle's counter in Redis: it survives what Redis does, and a Redis that is away
never costs a GPT its record."""

import pytest
import redis as redis_py
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache

from telemetry.hub.models import HubRecord
from telemetry.hub.window_counter import cache_write_pool
from tests.telemetry.helpers import post_record as post

pytestmark = pytest.mark.django_db

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
