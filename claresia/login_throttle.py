"""The login throttle's two project-specific pieces (django-axes does the counting, settings.py
sets the limits): which address a login comes from, and the page a locked-out login gets."""

import ipaddress
import math

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


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
