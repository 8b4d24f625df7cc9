"""`POST /oauth/register` (RFC 7591, the MCP app's dynamic client registration) in-process,
next to what one registration cost when django-oauth-toolkit generated a client secret for
the public client and hashed it with its default PBKDF2 on save.

Both are measured in the same run: the registration view end to end through Django's test
client (parse, validate, two INSERTs, the throttle's Redis count), and the baseline as a bare
DOT Application saved with its defaults (a generated secret, hashed). The view's rate is raised
for the run: it is the throttle's count that is measured here, not its refusals."""

import os
import statistics
import time

REGISTRATIONS = 300
BASELINE_SAVES = 5
BODY = (
    '{"client_name": "ChatGPT", "application_type": "web", '
    '"redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"], '
    '"grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], '
    '"token_endpoint_auth_method": "none"}'
)


def _registrations() -> list[float]:
    from django.conf import settings
    from django.test import Client
    from rest_framework.settings import api_settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "oauth_register": "100000000/min"},
    }
    api_settings.reload()  # the throttle reads DRF's settings, cached until a reload
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    timings = []
    for _ in range(REGISTRATIONS):
        started = time.perf_counter()
        response = client.post("/oauth/register", data=BODY, content_type="application/json")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 201, response.content
    return timings


def _baseline() -> list[float]:
    from oauth2_provider.models import Application

    timings = []
    for _ in range(BASELINE_SAVES):
        started = time.perf_counter()
        Application.objects.create(
            name="ChatGPT",
            client_type=Application.CLIENT_PUBLIC,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris="https://chatgpt.com/connector_platform_oauth_redirect",
        )
        timings.append(time.perf_counter() - started)
    return timings


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    _registrations()  # warm-up: imports, the first connection, Redis's script
    ours = sorted(_registrations())
    baseline = sorted(_baseline())
    load = os.getloadavg()[0]
    p99 = ours[int(len(ours) * 0.99) - 1]
    print(f"   load average {load:.2f}")
    print(
        f"   POST /oauth/register:        p50 {_ms(statistics.median(ours))}, "
        f"p99 {_ms(p99)} ({REGISTRATIONS} registrations)"
    )
    print(
        f"   DOT's default public client: p50 {_ms(statistics.median(baseline))} "
        f"({BASELINE_SAVES} saves, its generated secret hashed)"
    )
    print(f"   ratio {statistics.median(baseline) / statistics.median(ours):.0f}× cheaper")
