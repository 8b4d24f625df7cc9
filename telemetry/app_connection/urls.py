"""The app connection's addresses: `/mcp`, its OAuth 2.1 authorization server and the two
metadata documents ChatGPT reads first."""

from django.urls import path
from oauth2_provider.views import RevokeTokenView

from telemetry.app_connection.oauth import (
    McpAuthorizationView,
    McpTokenView,
    authorization_server_metadata,
    protected_resource_metadata,
    register_client,
)
from telemetry.app_connection.server import mcp_endpoint

urlpatterns = [
    path("mcp", mcp_endpoint, name="hub-mcp"),
    path(
        ".well-known/oauth-protected-resource",
        protected_resource_metadata,
        name="oauth-protected-resource",
    ),
    path(".well-known/oauth-protected-resource/mcp", protected_resource_metadata),
    path(
        ".well-known/oauth-authorization-server",
        authorization_server_metadata,
        name="oauth-authorization-server",
    ),
    path("oauth/register", register_client, name="oauth-register"),
    path("oauth/authorize/", McpAuthorizationView.as_view(), name="oauth-authorize"),
    path("oauth/token/", McpTokenView.as_view(), name="oauth-token"),
    path("oauth/revoke/", RevokeTokenView.as_view(), name="oauth-revoke"),
]
