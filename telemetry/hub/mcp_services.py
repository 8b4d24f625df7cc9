"""Services of the hub's MCP endpoint: its OAuth clients (registered by ChatGPT, RFC 7591),
their binding to one tenant when a tenant admin approves, the end users' later authorizations of
a bound client, and access-token authentication.
The views in telemetry/hub/oauth.py and telemetry/hub/mcp.py and the admin only call these."""

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from claresia.models import Tenant
from telemetry.hub import hotcache, token_stamp
from telemetry.hub.models import McpClient


class ClientBoundElsewhere(Exception):
    """The client is already bound to another tenant: one connection, one tenant."""


@dataclass(frozen=True)
class McpCaller:
    """Who calls /mcp: the tenant the client's grant is bound to, the client (one ChatGPT
    connection) and the access token."""

    tenant: Tenant
    application_id: int
    access_token_id: int


def mcp_client_register(*, client_name: str, redirect_uris: list[str]) -> Application:
    """A public client (no secret) for the authorization-code grant with PKCE; bound to no
    tenant until a tenant admin approves it. Raises django's ValidationError for a bad URI."""
    application = Application(
        name=client_name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        skip_authorization=False,
        algorithm=Application.NO_ALGORITHM,
    )
    application.full_clean(exclude=["user", "client_secret"])
    with transaction.atomic():
        application.save()
        McpClient.objects.create(application=application)
    return application


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


@dataclass(frozen=True)
class _Verified:
    caller: McpCaller
    expires: datetime
    stamp: str  # the shared token stamp read before the database was asked


def mcp_caller_authenticate(*, plaintext: str) -> McpCaller | None:
    """The tenant an unexpired access token with the hub scope is bound to, or None.

    Tokens are stored only as SHA-256 checksums (DOT's RFC 9700 token storage), so the lookup
    is by checksum; a revoked token is deleted, so the next call fails. A token this process
    verified is remembered (at most hotcache.HOT_CACHE_SECONDS, never past its expiry) and
    trusted while the shared token stamp, replaced on every token or client change in any
    process, has not changed: one cache GET a call instead of a three-join query."""
    if not plaintext or len(plaintext) > 512:
        return None
    checksum = hashlib.sha256(plaintext.encode("utf-8", "replace")).hexdigest()
    stamp = token_stamp.current()  # before the database: see token_stamp.py
    verified = hotcache.mcp_tokens.get(checksum)
    if verified is not None and verified.stamp == stamp and timezone.now() < verified.expires:
        return verified.caller
    row = (
        AccessToken.objects.filter(
            token_checksum=checksum,
            expires__gt=timezone.now(),
            application__claresia_mcp__tenant__isnull=False,
        )
        .select_related("application__claresia_mcp__tenant")
        .only("id", "scope", "expires", "application__claresia_mcp__tenant")
        .first()
    )
    if row is None or settings.MCP_SCOPE not in row.scope.split():
        return None
    caller = McpCaller(
        tenant=row.application.claresia_mcp.tenant,
        application_id=row.application_id,
        access_token_id=row.pk,
    )
    if stamp is None:
        token_stamp.start()  # nothing to check a memory against yet: remember nothing
    else:
        hotcache.mcp_tokens.put(checksum, _Verified(caller, row.expires, stamp))
    return caller


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
