"""Services of the hub's MCP endpoint: its OAuth clients (registered by ChatGPT, RFC 7591),
their binding to one tenant when a tenant admin approves, the end users' later authorizations of
a bound client, and access-token authentication.
The views in oauth.py and server.py and the admin only call these."""

import contextlib
import functools
import hashlib
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from mcp.server.auth.provider import AccessToken as SdkAccessToken
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken
from pydantic import Field

from claresia.models import Tenant
from telemetry.app_connection import token_stamp
from telemetry.app_connection.models import McpClient, McpRedeemedCode
from telemetry.hub import hotcache

# RFC 8707 §2: a resource indicator is an absolute URI; the default ports of its scheme are
# the same resource written two ways (RFC 3986 §6.2.3).
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A never-approved registration (no tenant, no grant, no token) is kept this long: ChatGPT
# sends the tenant admin to the approval page within seconds of registering.
UNAPPROVED_CLIENT_LIFETIME = timedelta(days=1)
# A redeemed code is remembered this long for replay detection (RFC 6749 §4.1.2); the code
# itself expires after AUTHORIZATION_CODE_EXPIRE_SECONDS, so a replay comes long before.
REDEEMED_CODE_LIFETIME = timedelta(days=1)

# ChatGPT's OAuth callbacks (chatgpt-admin-api.md, "Apps: how ChatGPT connects to an MCP
# server"): `https://chatgpt.com/connector/oauth/{callback_id}` for new connections and the legacy
# `https://chatgpt.com/connector_platform_oauth_redirect`. Any other redirect URI is not ChatGPT's,
# and the approval page says so.
CHATGPT_CALLBACK_HOST = "chatgpt.com"
CHATGPT_CALLBACK_PATH = re.compile(r"^/connector/oauth/[A-Za-z0-9._~-]+$")
CHATGPT_LEGACY_CALLBACK_PATH = "/connector_platform_oauth_redirect"
# How often a client's last use is written, at most, per web process.
LAST_USE_PRECISION = timedelta(minutes=1)
_last_use_written: dict[int, datetime] = {}


def is_chatgpt_callback(redirect_uri: str) -> bool:
    """Whether the redirect URI is one of ChatGPT's callbacks, exactly: https, the host
    chatgpt.com (no port, no user), one of the two paths, no query or fragment."""
    try:
        parts = urlsplit(redirect_uri)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.netloc == CHATGPT_CALLBACK_HOST
        and port is None
        and not parts.query
        and not parts.fragment
        and (
            parts.path == CHATGPT_LEGACY_CALLBACK_PATH
            or CHATGPT_CALLBACK_PATH.match(parts.path) is not None
        )
    )


def redirect_host(redirect_uri: str) -> str:
    """The host (and port, if any) a redirect URI sends the code to; never its user part."""
    try:
        parts = urlsplit(redirect_uri)
        port = parts.port
    except ValueError:
        return "(not a valid URI)"
    host = parts.hostname or "(no host)"
    return f"{host}:{port}" if port is not None else host


def mcp_client_redirect_hosts(application) -> list[str]:
    """The distinct hosts of a client's registered redirect URIs, in registration order."""
    hosts = [redirect_host(uri) for uri in application.redirect_uris.split()]
    return list(dict.fromkeys(hosts))


def mcp_client_label(application) -> str:
    """How a client is told apart from the others: its self-chosen name and where its codes go
    (`ChatGPT · chatgpt.com`); the name alone is the registrant's to choose."""
    hosts = mcp_client_redirect_hosts(application)
    where = hosts[0] if hosts else "no redirect URI"
    if len(hosts) > 1:
        where += f" +{len(hosts) - 1}"
    return f"{application.name or 'unnamed client'} · {where}"


def mcp_client_touch_due(*, application_id: int, now: datetime) -> bool:
    """Whether this process should record the client's use now (no database: a dict read)."""
    written = _last_use_written.get(application_id)
    return written is None or not timedelta(0) <= now - written < LAST_USE_PRECISION


def mcp_client_touch(*, application_id: int, now: datetime) -> None:
    """Record a client's use of /mcp: at most once per LAST_USE_PRECISION per web process, so a
    busy connection costs one UPDATE a minute, not one per call."""
    if not mcp_client_touch_due(application_id=application_id, now=now):
        return
    if len(_last_use_written) > 10_000:
        _last_use_written.clear()
    _last_use_written[application_id] = now
    McpClient.objects.filter(application_id=application_id).update(last_used_at=now)


class ClientBoundElsewhere(Exception):
    """The client is already bound to another tenant: one connection, one tenant."""


@dataclass(frozen=True)
class McpCaller:
    """Who calls /mcp: the tenant the client's grant is bound to, the client (one ChatGPT
    connection: its row and its OAuth client_id), the access token, its scopes and expiry."""

    tenant: Tenant
    application_id: int
    access_token_id: int
    client_id: str = ""
    scopes: tuple[str, ...] = ()
    expires: datetime | None = None


def mcp_client_register(*, client_name: str, redirect_uris: list[str]) -> Application:
    """A public client (no secret) for the authorization-code grant with PKCE; bound to no
    tenant until a tenant admin approves it. Raises django's ValidationError for a bad URI.

    A public client never authenticates with a secret (RFC 6749 §2.1), so none is made: DOT's
    default would generate one and hash it with PBKDF2 on save, seconds of CPU per
    registration for a value nobody ever sends (README "MCP performance")."""
    application = Application(
        name=client_name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        skip_authorization=False,
        algorithm=Application.NO_ALGORITHM,
        client_secret="",
        hash_client_secret=False,
        registration_source=Application.RegistrationSource.DCR,
    )
    application.full_clean(exclude=["user", "client_secret"])
    with transaction.atomic():
        application.save()
        McpClient.objects.create(application=application)
    return application


def mcp_client_of_metadata_document(*, application: Application) -> None:
    """A client DOT materialised from its Client ID Metadata Document becomes an MCP client
    like a registered one (McpClient, bound to no tenant until a tenant admin approves it):
    the same approval page, end-user path, admin and clean-up."""
    if application.registration_source == Application.RegistrationSource.CIMD:
        McpClient.objects.get_or_create(application=application)


def mcp_client_approve(*, client_id: str, tenant: Tenant, user) -> McpClient:
    """Bind the client to `tenant` on its first approval; a later approval must name the same
    tenant (else ClientBoundElsewhere) and lifts a revocation, letting end users authorize again.
    McpClient.DoesNotExist for a client not registered here."""
    with transaction.atomic():
        client = McpClient.objects.select_for_update().get(application__client_id=client_id)
        if client.tenant_id is None:
            client.tenant = tenant
            client.approved_by = user
            client.approved_at = timezone.now()
            client.revoked_at = None
            client.save(update_fields=["tenant", "approved_by", "approved_at", "revoked_at"])
        elif client.tenant_id != tenant.pk:
            raise ClientBoundElsewhere(client_id)
        elif client.revoked_at is not None:
            client.approved_by = user
            client.approved_at = timezone.now()
            client.revoked_at = None
            client.save(update_fields=["approved_by", "approved_at", "revoked_at"])
        # approved all the same if the name is taken; its end users' authorizations are refused
        with contextlib.suppress(ServiceUserTaken):
            mcp_service_user(tenant=tenant)
    return client


class ServiceUserTaken(Exception):
    """A person's account already has the service user's name: it is never used for grants."""


def mcp_service_user(*, tenant: Tenant):
    """The tenant's MCP service user, `mcp-<tenant slug>`, created on first use: the user DOT
    records on the grants and tokens of end users' authorizations, who have no Claresia login.

    It is inactive, with an unusable password, neither staff nor superuser, with no membership:
    ModelBackend refuses inactive users and there is no password to try, so it can never log in
    (admin, Command Center, API); the admin and the Command Center also require staff and a
    membership. DOT does not check the grant's user at the code and refresh grants, and /mcp
    finds the tenant through the client (McpClient), never through this user. An existing
    account of that name that is not such a user raises ServiceUserTaken."""
    user, _ = get_user_model().objects.get_or_create(
        username=f"mcp-{tenant.slug}",
        defaults={
            "is_active": False,
            "is_staff": False,
            "is_superuser": False,
            "password": make_password(None),
        },
    )
    if user.is_active or user.is_staff or user.is_superuser or user.has_usable_password():
        raise ServiceUserTaken(user.username)
    return user


def mcp_client_for_end_users(*, client_id: str) -> McpClient | None:
    """The client, if its end users' authorizations pass without a Claresia login: registered
    here, approved for a tenant by a tenant admin and not revoked since (a disconnected client
    no longer exists). None otherwise: the tenant admin's login and approval, as the first time."""
    if not client_id or len(client_id) > 255:
        return None
    return (
        McpClient.objects.filter(
            application__client_id=client_id, tenant__isnull=False, revoked_at__isnull=True
        )
        .select_related("tenant", "application")
        .first()
    )


def _resource_key(uri) -> tuple | None:
    """A resource indicator as compared (RFC 8707 §2: absolute, no fragment; RFC 3986 §6
    normalization: case of scheme and host, default port, dot segments, trailing slash), or
    None when it is not one. A query makes it another resource."""
    if not isinstance(uri, str) or len(uri) > 2000:
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "#" in uri or parts.query:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    path = posixpath.normpath(parts.path or "/")
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], path


def mcp_resource_is_hub(uri, *, hub: str) -> bool:
    """Whether the resource indicator `uri` names this hub's MCP endpoint `hub` (its
    canonical URL, `{issuer}/mcp`): the only resource this authorization server issues for."""
    key = _resource_key(uri)
    return key is not None and key == _resource_key(hub)


def mcp_audience_is_hub(resources, *, hub: str) -> bool:
    """Whether a grant's or token's stored audience (DOT's RFC 8707 `resource` list) is this
    hub's MCP endpoint and nothing else. An empty audience is no audience: refused."""
    return (
        isinstance(resources, list)
        and len(resources) > 0
        and all(mcp_resource_is_hub(uri, hub=hub) for uri in resources)
    )


@dataclass(frozen=True)
class _Verified:
    caller: McpCaller
    expires: datetime
    stamp: str  # the shared token stamp read before the database was asked


def mcp_token_checksum(plaintext: str) -> str | None:
    """How an access token is looked up (DOT stores only its SHA-256 checksum, RFC 9700), or
    None for what cannot be a token."""
    if not plaintext or len(plaintext) > 512:
        return None
    return hashlib.sha256(plaintext.encode("utf-8", "replace")).hexdigest()


def mcp_caller_remembered(*, checksum: str, resource: str) -> tuple[McpCaller | None, str | None]:
    """The caller this process verified for the token and `resource`, if the shared token stamp
    has not changed since (else None), and the stamp as read now, before any database read
    (token_stamp.py). No database: one cache GET."""
    stamp = token_stamp.current()
    # The audience is part of the key: a token verified for one hub URL says nothing of another.
    verified = hotcache.mcp_tokens.get((checksum, resource))
    if verified is not None and verified.stamp == stamp and timezone.now() < verified.expires:
        return verified.caller, stamp
    return None, stamp


def mcp_caller_look_up(*, checksum: str, resource: str, stamp: str | None) -> McpCaller | None:
    """The database's answer for the token (`stamp` read before asking), remembered under that
    stamp when there is one."""
    row = (
        AccessToken.objects.filter(
            token_checksum=checksum,
            expires__gt=timezone.now(),
            application__claresia_mcp__tenant__isnull=False,
        )
        .select_related("application__claresia_mcp__tenant")
        .only(
            "id",
            "scope",
            "expires",
            "resource",
            "application__client_id",
            "application__claresia_mcp__tenant",
        )
        .first()
    )
    if row is None or settings.MCP_SCOPE not in row.scope.split():
        return None
    if not mcp_audience_is_hub(row.resource, hub=resource):
        return None
    caller = McpCaller(
        tenant=row.application.claresia_mcp.tenant,
        application_id=row.application_id,
        access_token_id=row.pk,
        client_id=row.application.client_id,
        scopes=tuple(row.scope.split()),
        expires=row.expires,
    )
    if stamp is None:
        token_stamp.start()  # nothing to check a memory against yet: remember nothing
    else:
        hotcache.mcp_tokens.put((checksum, resource), _Verified(caller, row.expires, stamp))
    return caller


def mcp_caller_authenticate(*, plaintext: str, resource: str) -> McpCaller | None:
    """The tenant an unexpired access token with the hub scope, issued for `resource` (this
    hub's canonical /mcp URL), is bound to, or None.

    Tokens are stored only as SHA-256 checksums (DOT's RFC 9700 token storage), so the lookup
    is by checksum; a revoked token is deleted, so the next call fails. MCP authorization
    (2026-07-28) and RFC 8707: a token whose audience is not this server is refused. A token this
    process verified for `resource` is remembered (at most hotcache.HOT_CACHE_SECONDS, never past
    its expiry) and trusted while the shared token stamp, replaced on every token or client
    change in any process, has not changed: one cache GET a call instead of a three-join query.
    HubTokenVerifier is the same check in the MCP SDK's shape."""
    checksum = mcp_token_checksum(plaintext)
    if checksum is None:
        return None
    caller, stamp = mcp_caller_remembered(checksum=checksum, resource=resource)
    if caller is not None:
        return caller
    return mcp_caller_look_up(checksum=checksum, resource=resource, stamp=stamp)


class HubAccessToken(SdkAccessToken):
    """The MCP SDK's AccessToken, with the caller it was verified as (for the tool's tenant)."""

    caller: Any = Field(default=None, exclude=True, repr=False)


class HubTokenVerifier:
    """`mcp_caller_authenticate` in the MCP SDK's shape (`mcp.server.auth.provider.
    TokenVerifier`): the SDK's AccessToken (client_id, scopes, expiry, resource) for a valid
    token of this hub's /mcp `resource`, None otherwise; a revoked token is None on its very
    next call, as for the function.

    The remembered check (one cache GET) runs on the loop; the database lookup, when needed, goes
    through `run_sync`: the WSGI bridge's (the request's own thread, the loop paused) or, by
    default, asgiref's public `sync_to_async` (thread-sensitive, as Django's own async views
    reach the ORM)."""

    def __init__(self, *, resource: str, run_sync=None) -> None:
        self.resource = resource
        self._run_sync = run_sync

    async def verify_token(self, token: str) -> HubAccessToken | None:
        checksum = mcp_token_checksum(token)
        if checksum is None:
            return None
        caller, stamp = mcp_caller_remembered(checksum=checksum, resource=self.resource)
        if caller is None:
            look_up = functools.partial(
                mcp_caller_look_up, checksum=checksum, resource=self.resource, stamp=stamp
            )
            if self._run_sync is None:
                caller = await sync_to_async(look_up, thread_sensitive=True)()
            else:
                caller = await self._run_sync(look_up)
            if caller is None:
                return None
        return HubAccessToken(
            token=token,
            client_id=caller.client_id,
            scopes=list(caller.scopes),
            expires_at=int(caller.expires.timestamp()) if caller.expires else None,
            resource=self.resource,
            caller=caller,
        )


def mcp_tokens_changed(*, sender, created: bool = False, **_signal_kwargs) -> None:
    """An access token or an MCP client was saved or deleted (DOT's revocation and refresh,
    the admin, `mcp_tokens_revoke`, a cascade): no process may trust what it remembers of
    verified tokens. A newly issued token changes nothing that was verified."""
    if created and sender is AccessToken:
        return
    hotcache.mcp_tokens.clear()
    token_stamp.replace()


def mcp_tokens_revoke(*, clients) -> int:
    """Revoke every access and refresh token of the given clients (a queryset of McpClient);
    returns how many access tokens were cut. The next call with one of them gets a 401, and
    the clients' end users can no longer authorize until a tenant admin approves again."""
    applications = clients.values("application_id")
    with transaction.atomic():
        clients.update(revoked_at=timezone.now())
        refresh = RefreshToken.objects.filter(application_id__in=applications, revoked__isnull=True)
        refresh.update(revoked=timezone.now())
        deleted, _ = AccessToken.objects.filter(application_id__in=applications).delete()
        # The deletes signal it too; an update() does not, so say it here as well.
        mcp_tokens_changed(sender=McpClient)
    return deleted


def mcp_client_disconnect(*, clients) -> int:
    """Revoke the clients' tokens and delete the clients: ChatGPT must register and be
    approved again."""
    mcp_tokens_revoke(clients=clients)
    application_ids = list(clients.values_list("application_id", flat=True))
    deleted, _ = Application.objects.filter(pk__in=application_ids).delete()
    return len(application_ids) if deleted else 0


def mcp_code_redeemed(*, code: str, application: Application, token_family: UUID | None) -> None:
    """Remember that `code` was exchanged, and for which tokens (`token_family`, the family of
    the refresh token issued for it, covers every token refreshed from it), so that a replay
    can revoke them."""
    McpRedeemedCode.objects.get_or_create(
        code_checksum=hashlib.sha256(code.encode("utf-8")).hexdigest(),
        defaults={"application": application, "token_family": token_family},
    )


def mcp_code_replay_revoke(*, code: str, application: Application) -> bool:
    """RFC 6749 §4.1.2: an authorization code used more than once is refused and the tokens
    issued from it are revoked (its refresh token's family: every access and refresh token
    rotated from it). True when `code` had been redeemed by `application` before."""
    if not isinstance(code, str) or not code or len(code) > 512:
        return False
    redeemed = McpRedeemedCode.objects.filter(
        code_checksum=hashlib.sha256(code.encode("utf-8")).hexdigest(), application=application
    ).first()
    if redeemed is None:
        return False
    if redeemed.token_family is not None:
        RefreshToken.revoke_family(redeemed.token_family)
        # No process may go on trusting a token of the family it verified before.
        mcp_tokens_changed(sender=McpClient)
    return True


def mcp_clients_unapproved_remove(*, now: datetime) -> int:
    """Delete the registrations no tenant admin ever approved, older than a day: no tenant,
    no grant, no token ever issued (a client is approved before its first grant). Each
    registration is a row anyone may create (RFC 7591 open registration, throttled per
    address); this bounds them. Also forgets redeemed codes past their replay window.
    Returns how many clients were removed."""
    cutoff = now - UNAPPROVED_CLIENT_LIFETIME
    registered = Q(claresia_mcp__isnull=False, claresia_mcp__tenant__isnull=True) & Q(
        claresia_mcp__approved_at__isnull=True
    )
    # A Client ID Metadata Document's client is materialised on first sight by DOT (cimd.py)
    materialised = Q(
        registration_source=Application.RegistrationSource.CIMD, claresia_mcp__isnull=True
    )
    applications = (
        Application.objects.filter(registered | materialised, created__lt=cutoff)
        # NOT IN over a column with NULLs matches nothing: the token tables allow them
        .exclude(pk__in=Grant.objects.filter(application__isnull=False).values("application_id"))
        .exclude(
            pk__in=AccessToken.objects.filter(application__isnull=False).values("application_id")
        )
        .exclude(
            pk__in=RefreshToken.objects.filter(application__isnull=False).values("application_id")
        )
    )
    with transaction.atomic():
        ids = list(applications.values_list("pk", flat=True)[:10_000])
        Application.objects.filter(pk__in=ids).delete()
        McpRedeemedCode.objects.filter(redeemed_at__lt=now - REDEEMED_CODE_LIFETIME).delete()
    return len(ids)
