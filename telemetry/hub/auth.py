"""Bearer authentication and the per-token throttle of the hub API."""

import functools
import logging
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from claresia.throttling import RedisWindowCounter, cache_write_pool, parse_rate
from telemetry.hub.models import HubToken
from telemetry.hub.services import hub_token_authenticate

logger = logging.getLogger(__name__)


class HubClient:
    """The caller of the hub API: a tenant's GPTs, known by their token."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, token: HubToken) -> None:
        self.token = token
        self.tenant = token.tenant


class HubTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <hub token>`; a missing, wrong or revoked token is one 401."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise exceptions.NotAuthenticated("Send the hub token as 'Authorization: Bearer …'.")
        token = hub_token_authenticate(plaintext=credentials.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("This hub token is not valid or was revoked.")
        return HubClient(token), token

    def authenticate_header(self, request) -> str:
        return "Bearer"


class HubTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = HubTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


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


class HubTokenThrottle(throttling.SimpleRateThrottle):
    """Requests per hub token, in fixed windows counted in the shared cache.

    Keyed by token, not by IP: every call of a tenant's GPTs comes from OpenAI's egress, so an
    IP key would throttle all tenants together and a token key isolates a runaway tenant.
    Counted with cache add/incr instead of DRF's timestamp list, which costs O(rate) per request
    and races between gunicorn workers."""

    scope = "hub_token"

    def get_rate(self):
        # Read at call time (DRF's class attribute freezes the rates at import).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def parse_rate(self, rate):
        # The project's one rate reader (claresia/throttling.py), not DRF's copy of it.
        return parse_rate(rate) or (None, None)

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if not isinstance(auth, HubToken):
            return None
        return f"throttle:hub_token:{auth.pk}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, self.window_end = window_count(key, duration=self.duration)
        return count is None or count <= self.num_requests

    def wait(self):
        return max(1, int(self.window_end - time.time()) + 1)
