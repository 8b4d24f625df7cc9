"""The git remote of a tenant's plugin marketplace: configure it, show it masked, and hand its
credentials to the one caller that pushes (skills' marketplace publish).

Beside `connectors.services` and under the same rule: outside `connectors/`, nothing imports
`connectors.models` or `connectors.crypto`, so the token's encryption stays here.
"""

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from claresia.models import Tenant
from connectors.crypto import SecretUnreadable, secret_rotate
from connectors.models import PluginRemote
from connectors.services import ConnectorUnavailable

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 512
# Git hosts' tokens are far longer (GitHub's ghp_… 40, GitLab's glpat-… 26, Gitea's 40): a
# shorter one is a typo or a password, and its mask (the last 4) would show a quarter of it.
MIN_TOKEN_LENGTH = 16
MAX_URL_LENGTH = 500


@dataclass(frozen=True)
class PluginRemoteInfo:
    """What a page or command may show of a remote: never the token, only its mask."""

    url: str
    token_masked: str
    has_token: bool


@dataclass(frozen=True)
class PluginRemoteCredentials:
    url: str
    token: str

    def __repr__(self) -> str:  # a traceback or a debugger never prints the token
        return f"PluginRemoteCredentials(url={self.url!r}, token=…)"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_remote_url(url: str) -> str:
    """The URL as stored, or ValidationError: HTTPS (plain HTTP only on this machine's loopback,
    for the tests and the local run), no credentials in it (the token is stored apart)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise ValidationError({"url": "That is not a URL."}) from None
    if not host or len(url) > MAX_URL_LENGTH or any(ch.isspace() for ch in url):
        raise ValidationError(
            {"url": "Give the repository's HTTPS URL, e.g. https://github.com/acme/plugins.git."}
        )
    if parts.username or parts.password:
        raise ValidationError(
            {"url": "Put no credentials in the URL: give the token in its own file."}
        )
    if parts.query or parts.fragment:
        raise ValidationError({"url": "The repository URL takes no query or fragment."})
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(host)):
        raise ValidationError({"url": "Only HTTPS git remotes are supported (not SSH)."})
    return url


def validate_token(token: str) -> str:
    token = (token or "").strip()
    if not token:
        raise ValidationError({"token": "The token is empty."})
    if (
        len(token) > MAX_TOKEN_LENGTH
        or any(ch.isspace() for ch in token)
        or not token.isprintable()
    ):
        raise ValidationError({"token": "That is not a token: one line, no spaces."})
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValidationError(
            {
                "token": f"That token has {len(token)} characters; a git host's access token has "
                f"at least {MIN_TOKEN_LENGTH} (GitHub's ghp_… has 40): paste the whole token."
            }
        )
    return token


@transaction.atomic
def plugin_remote_configure(*, tenant: Tenant, url: str, token: str | None) -> PluginRemoteInfo:
    """Store (or replace) the tenant's marketplace remote; `token=None` keeps the stored token.
    Raises ValidationError, saving nothing, on a bad URL or token."""
    remote = PluginRemote.objects.select_for_update().filter(tenant=tenant).first() or PluginRemote(
        tenant=tenant
    )
    errors: dict[str, list[str]] = {}
    for check, value, apply in (
        (validate_remote_url, url, lambda v: setattr(remote, "url", v)),
        (validate_token, token, remote.set_token),
    ):
        if value is None:
            continue
        try:
            apply(check(value))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    remote.save()
    logger.info("plugin remote stored for tenant %s (token %s)", tenant.slug, remote.token_masked)
    return _info(remote)


def _info(remote: PluginRemote) -> PluginRemoteInfo:
    return PluginRemoteInfo(
        url=remote.url, token_masked=remote.token_masked, has_token=bool(remote.token_ciphertext)
    )


def plugin_remote_of(*, tenant: Tenant) -> PluginRemoteInfo | None:
    remote = PluginRemote.objects.filter(tenant=tenant).first()
    return _info(remote) if remote else None


def plugin_remote_tenant_ids() -> list[int]:
    """The tenants with a marketplace remote (the daily publish's fan-out)."""
    return list(PluginRemote.objects.order_by("tenant_id").values_list("tenant_id", flat=True))


def plugin_remote_credentials(*, tenant: Tenant) -> PluginRemoteCredentials:
    """The URL and token to push with. Raises ConnectorUnavailable when there is no remote or
    its token cannot be decrypted."""
    remote = PluginRemote.objects.filter(tenant=tenant).first()
    if remote is None:
        raise ConnectorUnavailable(
            f"tenant {tenant.slug} has no plugin marketplace remote: set it in Command Center → "
            f"Distribution → Plugin → Repository (or configure_plugin_remote --tenant "
            f"{tenant.slug} --url URL --token-file FILE)"
        )
    try:
        token = remote.token
    except SecretUnreadable:
        raise ConnectorUnavailable(
            "The stored plugin remote token cannot be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was a key removed?): configure the token again"
        ) from None
    return PluginRemoteCredentials(url=remote.url, token=token)


def plugin_remotes_reencrypt() -> int:
    """Rewrite every stored remote token under the newest FIELD_ENCRYPTION_KEYS key; returns the
    count. Raises SecretUnreadable, changing nothing, if any cannot be read."""
    with transaction.atomic():
        remotes = list(
            PluginRemote.objects.select_for_update()
            .exclude(token_ciphertext="")
            .only("pk", "token_ciphertext")
        )
        for remote in remotes:
            remote.token_ciphertext = secret_rotate(remote.token_ciphertext)
        PluginRemote.objects.bulk_update(remotes, ["token_ciphertext"])
    return len(remotes)
