"""django-oauth-toolkit's request validator with the hub's rules (settings
OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]): every code and token is issued for this hub's
`/mcp` and nothing else (RFC 8707), and a replayed code revokes what it bought (RFC 6749
§4.1.2).

The audience lives in DOT's own `resource` column of Grant, AccessToken and RefreshToken
(RFC 8707 support, DOT 3.3+): no swapped model, no extension table. DOT accepts any absolute
URI there and treats an empty list as "any resource"; this validator narrows both to the hub."""

from urllib.parse import urlsplit

from django.db import transaction
from oauth2_provider.models import Grant
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from telemetry.app_connection.services import (
    mcp_audience_is_hub,
    mcp_client_of_metadata_document,
    mcp_code_redeemed,
    mcp_code_replay_revoke,
    mcp_resource_is_hub,
)

MAX_RESOURCES = 5


class McpOAuthLibCore(OAuthLibCore):
    """DOT's bridge to oauthlib, handing it the request's absolute URI (DOT passes the path
    alone, except when verifying a bearer token): the validator reads from it which host's
    /mcp the request is about, as the metadata documents do (oauth.hub_resource)."""

    def _extract_params(self, request):
        uri, http_method, body, headers = super()._extract_params(request)
        return request.build_absolute_uri(uri), http_method, body, headers


def hub_resource_for(uri: str) -> str:
    """This hub's canonical MCP URL as seen by a request to `uri` (an endpoint of this
    server): the protected-resource metadata's `resource` (oauth.protected_resource_metadata)."""
    parts = urlsplit(uri or "")
    return f"{parts.scheme}://{parts.netloc}/mcp"


def hub_resource_refusal(resources: list, *, hub: str) -> str | None:
    """Why these requested resource indicators are refused, or None: each must be `hub`
    (RFC 8707 §2, `invalid_target`). No indicator at all is fine: the request is for `hub`."""
    if len(resources) > MAX_RESOURCES:
        return "Too many resource indicators."
    if not all(mcp_resource_is_hub(uri, hub=hub) for uri in resources):
        return f"This server issues tokens for {hub} only."
    return None


def _invalid_target(request, description: str) -> errors.CustomOAuth2Error:
    return errors.CustomOAuth2Error(
        error="invalid_target", description=description, request=request
    )


def _requested(request) -> list:
    """The token request's `resource` values: oauthlib keeps only the last of repeated body
    parameters, so they are read from the decoded body (RFC 8707 allows several)."""
    values = [value for key, value in (request.decoded_body or []) if key == "resource"]
    if values:
        return values
    resource = getattr(request, "resource", None)
    if isinstance(resource, list):
        return resource
    return [resource] if resource else []


class McpOAuth2Validator(OAuth2Validator):
    def validate_client_id(self, client_id, request, *args, **kwargs):
        # at the authorization endpoint, where DOT may just have materialised a client from
        # its metadata document (telemetry/app_connection/cimd.py)
        if not super().validate_client_id(client_id, request, *args, **kwargs):
            return False
        mcp_client_of_metadata_document(application=request.client)
        return True

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        # The authorization view refused another resource before its page; this also
        # covers the approval form's hidden field, which the browser could alter.
        hub = hub_resource_for(request.uri)
        resources = getattr(request, "resource", None) or []
        refusal = hub_resource_refusal(resources, hub=hub)
        if refusal:
            raise _invalid_target(request, refusal)
        request.resource = [hub]
        return super().save_authorization_code(client_id, code, request, *args, **kwargs)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            mcp_code_replay_revoke(code=code, application=client)
            return False
        grant = Grant.objects.filter(code=code, application=client).only("resource").first()
        self._bind_to_hub(request, bound=list(grant.resource or []) if grant else [])
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        refresh = getattr(request, "refresh_token_instance", None)
        self._bind_to_hub(request, bound=list(refresh.resource or []) if refresh else [])
        return True

    @staticmethod
    def _bind_to_hub(request, *, bound: list) -> None:
        """RFC 8707 at the token endpoint, while oauthlib validates the request (so a refusal
        is its JSON error): the requested resources and those the code or refresh token was
        issued for must all be the hub; the token is issued for the hub. A code or refresh
        token issued before audiences were stored has none, and is bound to the hub now."""
        hub = hub_resource_for(request.uri)
        refusal = hub_resource_refusal(_requested(request), hub=hub)
        if refusal:
            raise _invalid_target(request, refusal)
        if bound and not mcp_audience_is_hub(bound, hub=hub):
            raise _invalid_target(request, "The grant was issued for another resource.")
        # DOT compares requested and granted indicators as strings: hand it the stored ones
        request.resource = bound or [hub]

    def save_bearer_token(self, token, request, *args, **kwargs):
        with transaction.atomic():
            super().save_bearer_token(token, request, *args, **kwargs)
            if request.grant_type == "authorization_code":
                mcp_code_redeemed(
                    code=request.code,
                    application=request.client,
                    refresh_token=token.get("refresh_token"),
                )
