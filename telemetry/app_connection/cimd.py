"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP
authorization 2026-07-28 makes them the SHOULD, and ChatGPT prefers them when the server's
metadata says `client_id_metadata_document_supported`).

django-oauth-toolkit resolves them (oauth2_provider/cimd.py, CIMD_ENABLED): on first sight of
an `https` client_id at /oauth/authorize or /oauth/token it fetches the document, requires its
`client_id` to equal the URL, and materialises a public Application keyed by the URL with the
document's `redirect_uris` and `client_name`; the row keeps the document's freshness
(`cimd_expires_at`, from Cache-Control max-age clamped to CIMD_METADATA_MIN/MAX_AGE_SECONDS)
and is re-fetched when stale, while failures back off in Django's cache. So approvals, grants
and tokens work as for a registered client. This module adds the hub's part:

- the fetcher: DOT's hardening (https only; the host resolved once, every address public —
  loopback, private, link-local with 169.254.169.254, CGNAT, reserved refused — and that
  address connected to; no redirects; one deadline for the whole fetch; a size cap), with the
  trust and the addresses the test suite needs set by two settings that only tests set;
- a permission: a fetch is a registration, counted against the same per-address throttle;
- the materialised client made public without a secret (a PBKDF2 hash per first sight
  otherwise, as for registration)."""

import socket
import ssl
import time
from types import SimpleNamespace

import urllib3
from django.conf import settings
from oauth2_provider.cimd import (
    CIMDError,
    SafeMetadataFetcher,
    _resolve_and_validate,
    _validate_client_id_url,
)
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings

from claresia.throttling import client_ip
from telemetry.hub.auth import WindowThrottle

_registration_throttle = WindowThrottle("oauth_register")


class McpMetadataFetcher(SafeMetadataFetcher):
    """DOT's SafeMetadataFetcher.fetch, with the address check and the TLS trust as methods:
    production uses DOT's check and the system's trust store; the suite's HTTPS server on
    loopback is reached only through MCP_CIMD_TEST_HOSTS and MCP_CIMD_TEST_CA_FILE."""

    def fetch(self, client_id):
        parsed = _validate_client_id_url(client_id)
        port = parsed.port or 443
        addresses = self._addresses(parsed.hostname, port)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        headers = {"Host": parsed.netloc, "Accept": "application/json, application/*+json"}
        context = self._ssl_context()
        # One deadline for every address tried: N addresses never hold a worker N times.
        deadline = time.monotonic() + oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS
        last_error = None
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # The checked address is the one connected to; SNI, the certificate and the Host
            # header use the name, so a second DNS answer cannot rebind the connection.
            pool = urllib3.HTTPSConnectionPool(
                host=address,
                port=port,
                timeout=urllib3.Timeout(connect=remaining, read=remaining, total=remaining),
                retries=False,
                maxsize=1,
                ssl_context=context,
                server_hostname=parsed.hostname,
            )
            try:
                response = pool.urlopen(
                    "GET", path, headers=headers, redirect=False, preload_content=False
                )
                try:
                    return self._read_document(response)
                finally:
                    response.release_conn()
            except urllib3.exceptions.HTTPError as error:
                last_error = error
            finally:
                pool.close()
        raise CIMDError(f"could not fetch client_id document: {last_error}")

    @staticmethod
    def _addresses(hostname: str, port: int) -> list[str]:
        if hostname in settings.MCP_CIMD_TEST_HOSTS:
            infos = socket.getaddrinfo(hostname, port, proto=socket.IPPROTO_TCP)
            return list(dict.fromkeys(info[4][0] for info in infos))
        return _resolve_and_validate(hostname, port)

    @staticmethod
    def _ssl_context() -> ssl.SSLContext:
        return ssl.create_default_context(cafile=settings.MCP_CIMD_TEST_CA_FILE or None)


class RegistrationThrottlePermission:
    """DOT's CIMD permission hook: a document fetched is a client registered, so it counts
    against /oauth/register's per-address throttle (OAUTH_REGISTER_RATE). `request` is
    oauthlib's, whose headers are the Django request's META."""

    def has_permission(self, request, client_id) -> bool:
        address = client_ip(SimpleNamespace(META=request.headers)) or "unknown"
        return _registration_throttle.wait_if_over(address) is None


def public_client_without_secret(sender, instance, **kwargs) -> None:
    """pre_save of DOT's Application: a client materialised from a metadata document is
    public (the draft forbids it a secret), so it gets none rather than a generated one
    hashed with PBKDF2 on every first sight."""
    materialised = instance.registration_source == Application.RegistrationSource.CIMD
    if instance._state.adding and materialised:
        instance.client_secret = ""
        instance.hash_client_secret = False
