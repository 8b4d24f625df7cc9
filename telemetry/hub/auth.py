"""Bearer authentication and the per-token throttle of the hub API."""

import time

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from claresia.throttling import Rate, leases, parse_rate
from telemetry.hub.models import HubToken
from telemetry.hub.services import hub_token_authenticate


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


class HubTokenThrottle(throttling.SimpleRateThrottle):
    """Requests per hub token, in fixed windows counted in the shared cache.

    Keyed by token, not by IP: every call of a tenant's GPTs comes from OpenAI's egress, so an
    IP key would throttle all tenants together and a token key isolates a runaway tenant.
    Counted in the shared cache (claresia/throttling.py: a busy token's slots leased a few at a
    time) instead of DRF's timestamp list, which costs O(rate) per request and races between
    gunicorn workers."""

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
        admitted, self.window_end = leases.admit(key, Rate(self.num_requests, self.duration))
        return admitted

    def wait(self):
        return max(1, int(self.window_end - time.time()) + 1)
