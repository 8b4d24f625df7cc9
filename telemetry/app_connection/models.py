"""The app connection's own rows: the OAuth clients of `/mcp` (as ChatGPT registers them) bound
to a tenant, and the authorization codes already exchanged. The tokens themselves are
django-oauth-toolkit's."""

from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings

from claresia.models import Tenant


class McpClient(models.Model):
    """An OAuth client of the hub's MCP endpoint (`/mcp`), as ChatGPT registers it (RFC 7591),
    and the one tenant it is bound to. The binding is made when a tenant admin approves the
    connection (README, "The hub as an MCP app"); every token issued to the client writes to
    that tenant only, and a later approval for another tenant is refused."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="claresia_mcp",
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="mcp_clients"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Set when a tenant admin revokes the client's tokens: end users' authorizations no longer
    # pass without a login until a tenant admin approves the client again.
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last authenticated /mcp call, to the minute (mcp_client_touch writes at most once a
    # minute per client and web process, so a busy connection costs no write per call).
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "MCP client"

    def __str__(self) -> str:
        tenant = self.tenant.slug if self.tenant_id else "not approved"
        return f"{self.application.name or self.application.client_id} ({tenant})"


class McpRedeemedCode(models.Model):
    """An authorization code of the hub's OAuth server, once exchanged: DOT deletes the grant
    on exchange, so this remembers the code (as a SHA-256 checksum, never the code) and the
    token family issued from it, so that a replay revokes those tokens (RFC 6749 §4.1.2).
    Forgotten after a day (mcp_clients_unapproved_remove)."""

    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # RefreshToken.token_family: the first refresh token's and every one rotated from it
    token_family = models.UUIDField(null=True, blank=True)
    redeemed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "redeemed MCP authorization code"

    def __str__(self) -> str:
        return f"code …{self.code_checksum[-8:]} redeemed {self.redeemed_at:%Y-%m-%d %H:%M}"
