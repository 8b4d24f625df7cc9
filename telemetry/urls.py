from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider.views import RevokeTokenView

from telemetry.hub.api_urls import api_urlpatterns
from telemetry.hub.mcp import mcp_endpoint
from telemetry.hub.oauth import (
    McpAuthorizationView,
    McpTokenView,
    authorization_server_metadata,
    protected_resource_metadata,
    register_client,
)
from telemetry.hub.pages import record_page

urlpatterns = [
    *api_urlpatterns,
    path(
        "hub/v1/schema",
        SpectacularAPIView.as_view(patterns=api_urlpatterns, authentication_classes=[]),
        name="hub-schema",
    ),
    path("hub/records/<str:record_id>", record_page, name="hub-record-page"),
    # The hub as an MCP app and its OAuth 2.1 (telemetry/hub/mcp.py, telemetry/hub/oauth.py).
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
