"""OAuth 2.1 for the hub's MCP endpoint, as the MCP authorization spec asks and ChatGPT connects
apps (chatgpt-admin-api.md, "Plugins, the successor"; OpenAI Apps SDK, "Authentication"):
protected-resource metadata (RFC 9728), authorization-server metadata (RFC 8414), dynamic client
registration (RFC 7591) beside Client ID Metadata Documents (oauth_cimd.py), the authorization
page where a tenant admin approves the connection for one tenant, which then lets the
connection's end users authorize without a Claresia login, and django-oauth-toolkit's token and
revocation endpoints (PKCE S256, rotation), whose codes and tokens are for this hub's /mcp only
(RFC 8707, oauth_validator.py)."""

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import is_valid_resource_uri
from oauth2_provider.views import AuthorizationView, TokenView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from claresia.models import Tenant
from claresia.scoping import tenants_editable_by
from claresia.throttling import client_ip
from skills.rules import HUB_APP_TITLE
from telemetry.app_connection.models import McpClient
from telemetry.app_connection.oauth_validator import hub_resource_refusal
from telemetry.app_connection.services import (
    ClientBoundElsewhere,
    ServiceUserTaken,
    is_chatgpt_callback,
    mcp_client_approve,
    mcp_client_for_end_users,
    mcp_client_register,
    mcp_service_user,
    redirect_host,
)
from telemetry.hub.auth import WindowThrottle

MAX_REGISTRATION_BYTES = 16 * 1024
MAX_REDIRECT_URIS = 5
# What an approved connection may do, as the approval page says it: the one tool of /mcp.
SCOPE_DESCRIPTIONS = (
    "write hub records: each skill's output, inputs, model, token usage and latency, through "
    "the app's emit_hub_record tool",
    "read back the footer of each record it writes (skill, cost, latency, View record link)",
)
APPLICATION_TYPES = ("web", "native")
# Each registration is a row until the daily clean-up of never-approved ones
# (mcp_clients_unapproved_remove): bounded per client address.
_registration_throttle = WindowThrottle("oauth_register")


def issuer(request) -> str:
    """This hub's base URL as the request reached it (a Mode C hub is its own issuer); the
    same value DOT puts in the authorization response's `iss` (RFC 9207)."""
    return request.build_absolute_uri("/").rstrip("/")


def hub_resource(request) -> str:
    """The canonical URL of this hub's MCP endpoint: the protected resource's identifier
    (RFC 9728) and the only audience its tokens are issued for (RFC 8707)."""
    return f"{issuer(request)}/mcp"


def resource_metadata_url(request) -> str:
    return f"{issuer(request)}/.well-known/oauth-protected-resource/mcp"


@require_GET
def protected_resource_metadata(request):
    """RFC 9728: where /mcp's tokens come from. Served at the root and at the path-suffixed
    form (`…/oauth-protected-resource/mcp`), which MCP clients try first."""
    base = issuer(request)
    return JsonResponse(
        {
            "resource": hub_resource(request),
            "authorization_servers": [base],
            "scopes_supported": [settings.MCP_SCOPE],
            "bearer_methods_supported": ["header"],
            "resource_name": HUB_APP_TITLE,
        }
    )


@require_GET
def authorization_server_metadata(request):
    """RFC 8414: what this authorization server supports — exactly what ChatGPT needs and no
    more (public clients, authorization code with PKCE S256, refresh tokens)."""
    base = issuer(request)
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize/",
            "token_endpoint": f"{base}/oauth/token/",
            "registration_endpoint": f"{base}/oauth/register",
            "revocation_endpoint": f"{base}/oauth/revoke/",
            "scopes_supported": [settings.MCP_SCOPE],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": True,
            # draft-ietf-oauth-client-id-metadata-document: an https client_id is fetched
            # (telemetry/app_connection/cimd.py); ChatGPT then prefers it to registering
            "client_id_metadata_document_supported": True,
        }
    )


def _registration_error(description: str, status: int = 400) -> JsonResponse:
    # RFC 7591 §3.2.2
    return JsonResponse(
        {"error": "invalid_client_metadata", "error_description": description}, status=status
    )


@csrf_exempt
@require_POST
def register_client(request):
    """RFC 7591 registration, strict: a public client (token_endpoint_auth_method `none`) for
    the authorization-code grant (with refresh tokens), 1 to 5 redirect URIs. Other requested
    auth methods are replaced by `none` (RFC 7591 §3.2.1 lets the server replace values); other
    grant or response types are refused. The client can do nothing until a tenant admin
    approves it."""
    wait = _registration_throttle.wait_if_over(client_ip(request) or "unknown")
    if wait is not None:
        response = JsonResponse(
            {
                "error": "too_many_requests",
                "error_description": "Too many registrations from this address; try later.",
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if request.content_type != "application/json":
        return _registration_error("Send the client metadata as application/json.", 415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REGISTRATION_BYTES or len(request.body) > MAX_REGISTRATION_BYTES:
        return _registration_error("The client metadata is too large.", 413)
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):
        return _registration_error("The body is not JSON.")
    if not isinstance(data, dict):
        return _registration_error("Send a JSON object.")
    uris = data.get("redirect_uris")
    if (
        not isinstance(uris, list)
        or not 1 <= len(uris) <= MAX_REDIRECT_URIS
        or not all(isinstance(uri, str) and 0 < len(uri) <= 2000 for uri in uris)
        or any(" " in uri or "#" in uri for uri in uris)
    ):
        return _registration_error(f"Give 1 to {MAX_REDIRECT_URIS} redirect_uris (strings).")
    grants = data.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or set(grants) - {"authorization_code", "refresh_token"}:
        return _registration_error("Only authorization_code and refresh_token are supported.")
    if "authorization_code" not in grants:
        return _registration_error("grant_types must include authorization_code.")
    responses = data.get("response_types", ["code"])
    if responses != ["code"]:
        return _registration_error("Only the response type 'code' is supported.")
    name = data.get("client_name", "")
    if not isinstance(name, str) or len(name) > 100 or "\x00" in name:
        return _registration_error("client_name must be text of at most 100 characters.")
    # OpenID Connect DCR §2, which MCP 2026-07-28 asks DCR clients to send; "web" by default.
    application_type = data.get("application_type", "web")
    if application_type not in APPLICATION_TYPES:
        return _registration_error("application_type must be 'web' or 'native'.")
    try:
        application = mcp_client_register(client_name=name.strip(), redirect_uris=uris)
    except ValidationError:
        return _registration_error("A redirect URI is not allowed (https, no wildcard).")
    answer = {
        "client_id": application.client_id,
        "client_id_issued_at": int(application.created.timestamp()),
        "redirect_uris": uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": settings.MCP_SCOPE,
        "application_type": application_type,
    }
    if application.name:
        answer["client_name"] = application.name
    return JsonResponse(answer, status=201)


def refuse_other_resource(request, credentials: dict) -> None:
    """RFC 8707 §2 at the authorization endpoint, once DOT has checked the client and its
    redirect URI (before that, DOT shows an error page): a `resource` other than this hub's
    /mcp is answered at the redirect URI with `invalid_target`. Without one, the code is bound
    to /mcp all the same (McpOAuth2Validator.save_authorization_code)."""
    refusal = hub_resource_refusal(request.GET.getlist("resource"), hub=hub_resource(request))
    if refusal:
        raise OAuthToolkitError(
            error=CustomOAuth2Error(
                error="invalid_target", description=refusal, state=credentials.get("state")
            ),
            redirect_uri=credentials["redirect_uri"],
        )


class TenantAllowForm(AllowForm):
    # Not required: Deny names no tenant (form_valid requires one for Approve).
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.none(),  # the approving admin's tenants, set per request
        empty_label=None,
        required=False,
        help_text="The tenant whose hub this ChatGPT connection writes to.",
    )


def _with_issuer(uri: str, issuer_url: str) -> str:
    """The authorization response's redirect with RFC 9207's `iss` (the metadata's `issuer`),
    replacing any `iss` the URI held; DOT adds it to codes, this adds it to errors too (§2)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    query.append(("iss", issuer_url))
    return urlunsplit(parts._replace(query=urlencode(query)))


class McpAuthorizationView(AuthorizationView):
    """The approval page: a Claresia login (DOT's LoginRequiredMixin) of a tenant admin, who
    picks the tenant the connection writes to. The first approval binds the client to that
    tenant; approving it for another tenant later is refused.

    Once bound (and not revoked since), the client's later authorizations — each end user's,
    who has no Claresia login — are granted at once, with no login and no page: the code is
    the tenant's MCP service user's (mcp_service_user), and DOT checks the request as for any
    other (registered redirect URI, PKCE S256 required); a state is required too. The code goes
    only to a redirect URI the approved client registered, and only the holder of the PKCE
    verifier can exchange it."""

    template_name = "hub/mcp_authorize.html"
    form_class = TenantAllowForm

    def redirect(self, redirect_to, application):
        """After the page's form (Approve or Deny), a page that navigates to the client's
        redirect URI instead of a 302: Chromium applies CSP `form-action` to every redirect
        after a form's POST, so a 302 to the client (and any hop it makes next) under
        `form-action 'self'` silently goes nowhere, while a navigation is not subject to it
        (chatgpt-admin-api.md, "Apps"). The page keeps the strict policy: a meta refresh and
        a link, no script. Without a form (an end user's authorization, a bad request), 302."""
        response = super().redirect(redirect_to, application)  # validates the scheme
        if self.request.method != "POST":
            return response
        page = render(
            self.request,
            "hub/mcp_authorize_continue.html",
            {
                "site_header": admin.site.site_header,
                "site_title": admin.site.site_title,
                "redirect_to": response.url,
                "redirect_host": redirect_host(response.url),
                "denied": "error" in dict(parse_qsl(urlsplit(response.url).query)),
            },
        )
        # The code is in the page: never cached, never sent on as a referrer.
        page["Cache-Control"] = "no-store"
        page["Referrer-Policy"] = "no-referrer"
        return page

    def error_response(self, error, application, **kwargs):
        redirect, error_response = OAuthLibMixin.error_response(self, error, **kwargs)
        if redirect:
            url = _with_issuer(error_response["url"], issuer(self.request))
            return self.redirect(url, application)
        context = {
            **error_response,
            "site_header": admin.site.site_header,
            "site_title": admin.site.site_title,
        }
        return self.render_to_response(context, status=error_response["error"].status_code)

    def validate_authorization_request(self, request):
        scopes, credentials = super().validate_authorization_request(request)
        refuse_other_resource(request, credentials)
        return scopes, credentials

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET":
            client = mcp_client_for_end_users(client_id=request.GET.get("client_id", ""))
            if client is not None:
                self.oauth2_data = {}
                return self._authorize_end_user(request, client)
        return super().dispatch(request, *args, **kwargs)

    def _end_user_error(self, description, credentials, application):
        error = OAuthToolkitError(
            error=CustomOAuth2Error(
                error="invalid_request", description=description, state=credentials.get("state")
            ),
            redirect_uri=credentials["redirect_uri"],
        )
        return self.error_response(error, application)

    def _authorize_end_user(self, request, client: McpClient):
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = client.application
        if not credentials.get("state"):
            return self._end_user_error("Send a state.", credentials, application)
        resources = request.GET.getlist("resource")
        if not all(is_valid_resource_uri(uri) for uri in resources):
            return self._end_user_error(
                "A resource is not an absolute URI.", credentials, application
            )
        if resources:
            credentials["resource"] = resources
        try:
            request.user = mcp_service_user(tenant=client.tenant)
        except ServiceUserTaken:
            return self._end_user_error(
                "This connection cannot be authorized; ask a Claresia admin.",
                credentials,
                application,
            )
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def _tenants(self):
        tenants = tenants_editable_by(self.request.user).order_by("slug")
        client_id = self.request.POST.get("client_id") or self.request.GET.get("client_id", "")
        bound = (
            McpClient.objects.filter(application__client_id=client_id)
            .values_list("tenant_id", flat=True)
            .first()
        )
        return tenants.filter(pk=bound) if bound else tenants

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["tenant"].queryset = self._tenants()
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            site_header=admin.site.site_header,
            site_title=admin.site.site_title,
            has_tenants=self._tenants().exists(),
            scope_descriptions=SCOPE_DESCRIPTIONS,
        )
        form = context.get("form")
        data = form.data if form is not None and form.is_bound else self.oauth2_data
        client_id = data.get("client_id") or ""
        redirect_uri = data.get("redirect_uri") or ""
        application = (
            Application.objects.filter(client_id=client_id).first()
            if client_id and len(client_id) <= 255
            else None
        )
        # Only a redirect URI the client registered is shown (a re-shown form's posted value
        # may be anything; DOT refuses any other at approval anyway).
        if application is not None and application.redirect_uri_allowed(redirect_uri):
            context.update(
                application=application,
                redirect_uri=redirect_uri,
                redirect_host=redirect_host(redirect_uri),
                chatgpt_callback=is_chatgpt_callback(redirect_uri),
            )
        return context

    def form_valid(self, form):
        # Deny goes back to the posted redirect URI unchecked by DOT: only a registered one.
        application = Application.objects.filter(client_id=form.cleaned_data["client_id"]).first()
        if application is None or not application.redirect_uri_allowed(
            form.cleaned_data.get("redirect_uri") or ""
        ):
            form.add_error(None, "This redirect URI is not one the client registered.")
            return self.form_invalid(form)
        if form.cleaned_data.get("allow"):
            if form.cleaned_data.get("tenant") is None:
                form.add_error("tenant", "Choose the tenant this connection writes to.")
                return self.form_invalid(form)
            try:
                mcp_client_approve(
                    client_id=form.cleaned_data["client_id"],
                    tenant=form.cleaned_data["tenant"],
                    user=self.request.user,
                )
            except McpClient.DoesNotExist:
                form.add_error(None, "This client was not registered for the Claresia hub.")
                return self.form_invalid(form)
            except ClientBoundElsewhere:
                form.add_error("tenant", "This connection is bound to another tenant.")
                return self.form_invalid(form)
        return super().form_valid(form)


# The grants a ChatGPT connection uses (authorization-server metadata, grant_types_supported).
SUPPORTED_GRANTS = frozenset({"authorization_code", "refresh_token"})


class McpTokenView(TokenView):
    """DOT's token endpoint, for the grants this server supports only: any other grant type
    is refused here (RFC 6749 §5.2, `unsupported_grant_type`), before DOT routes the device
    code grant to a handler that expects a `device_code`."""

    def post(self, request, *args, **kwargs):
        if request.POST.get("grant_type") not in SUPPORTED_GRANTS:
            return JsonResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Use authorization_code or refresh_token.",
                },
                status=400,
                headers={"Cache-Control": "no-store"},
            )
        return super().post(request, *args, **kwargs)
