"""OAuth 2.1 for the hub's MCP endpoint, as the MCP authorization spec asks and ChatGPT connects
apps (chatgpt-admin-api.md, "Plugins, the successor"; OpenAI Apps SDK, "Authentication"):
protected-resource metadata (RFC 9728) and authorization-server metadata (RFC 8414) as
django-oauth-toolkit's views with the hub's additions, dynamic client registration (RFC 7591,
the body in registration.py) beside Client ID Metadata Documents (cimd.py), the authorization
page where a tenant admin approves the connection for one tenant, which then lets the
connection's end users authorize without a Claresia login, and django-oauth-toolkit's token and
revocation endpoints (PKCE S256, rotation), whose codes and tokens are for this hub's /mcp only
(RFC 8707, oauth_validator.py). What is DOT's and what is ours: docs/architecture.md."""

import functools
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import is_valid_resource_uri
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, TokenView
from oauth2_provider.views.metadata import (
    OAuthProtectedResourceMetadataView,
    OAuthServerMetadataView,
)
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from claresia.models import Tenant
from claresia.scoping import tenants_editable_by
from claresia.throttling import WindowThrottle, client_ip
from skills.rules import HUB_APP_TITLE
from telemetry.app_connection.models import McpClient
from telemetry.app_connection.oauth_validator import hub_resource_refusal
from telemetry.app_connection.registration import (
    ClientMetadataSerializer,
    registration_answer,
    registration_error_description,
)
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

MAX_REGISTRATION_BYTES = 16 * 1024
# What an approved connection may do, as the approval page says it: the one tool of /mcp.
SCOPE_DESCRIPTIONS = (
    "write hub records: each skill's output, inputs, model, token usage and latency, through "
    "the app's emit_hub_record tool",
    "read back the footer of each record it writes (skill, cost, latency, View record link)",
)
# Each registration is a row until the daily clean-up of never-approved ones
# (mcp_clients_unapproved_remove): bounded per client address.
_registration_throttle = WindowThrottle("oauth_register")


def issuer(request) -> str:
    """This hub's base URL as the request reached it (a Mode C hub is its own issuer); the
    same value DOT puts in the authorization response's `iss` (RFC 9207):
    `request.build_absolute_uri("/")` without its slash, which for "/" is the scheme and the
    validated host, IRI-encoded (remembered per scheme and host: every /mcp call asks)."""
    return _issuer_of(f"{request.scheme}://{request.get_host()}")


@functools.lru_cache(maxsize=64)
def _issuer_of(scheme_host: str) -> str:
    return iri_to_uri(scheme_host + "/").rstrip("/")


def hub_resource(request) -> str:
    """The canonical URL of this hub's MCP endpoint: the protected resource's identifier
    (RFC 9728) and the only audience its tokens are issued for (RFC 8707)."""
    return f"{issuer(request)}/mcp"


def resource_metadata_url(request) -> str:
    return f"{issuer(request)}/.well-known/oauth-protected-resource/mcp"


class ProtectedResourceMetadataView(OAuthProtectedResourceMetadataView):
    """RFC 9728, DOT's document: where /mcp's tokens come from. Served at the root and at the
    path-suffixed form (`…/oauth-protected-resource/mcp`), which MCP clients try first; both
    name /mcp (DOT would name the host at the root) and this server as its issuer (DOT
    reverses its own URL names, which this server does not mount). Scopes and bearer methods
    are DOT's, from OAUTH2_PROVIDER."""

    http_method_names = ["get"]

    def get_resource(self, request):
        return hub_resource(request)

    def get_authorization_servers(self, request):
        return [issuer(request)]

    def get_resource_name(self):
        return HUB_APP_TITLE


class AuthorizationServerMetadataView(OAuthServerMetadataView):
    """RFC 8414, DOT's document: what this authorization server supports — exactly what
    ChatGPT needs and no more. DOT derives it from OAUTH2_PROVIDER (response and grant types,
    `none` for public clients, PKCE S256 once `plain` is refused, RFC 9207's `iss`, Client ID
    Metadata Documents); this adds the endpoints at this server's own URLs and the
    registration endpoint, which DOT advertises only for its own DCR view (off here)."""

    http_method_names = ["get"]
    # DOT's URL names → this server's (urls.py); introspection is not served
    ENDPOINTS = {
        "authorize": "oauth-authorize",
        "token": "oauth-token",
        "revoke-token": "oauth-revoke",
    }

    def _get_endpoint_url(self, request, view_name, required=False):
        name = self.ENDPOINTS.get(view_name)
        return request.build_absolute_uri(reverse(name)) if name else None

    def get(self, request, *args, **kwargs):
        # DOT builds and answers the document in one method: its answer, one key added
        response = super().get(request, *args, **kwargs)
        document = json.loads(response.content)
        document["registration_endpoint"] = request.build_absolute_uri(reverse("oauth-register"))
        return JsonResponse(document, headers={"Access-Control-Allow-Origin": "*"})


protected_resource_metadata = ProtectedResourceMetadataView.as_view()
authorization_server_metadata = AuthorizationServerMetadataView.as_view()


def _registration_error(description: str, status: int = 400) -> JsonResponse:
    # RFC 7591 §3.2.2
    return JsonResponse(
        {"error": "invalid_client_metadata", "error_description": description}, status=status
    )


def _throttled(request) -> JsonResponse | None:
    wait = _registration_throttle.wait_if_over(client_ip(request) or "unknown")
    if wait is None:
        return None
    response = JsonResponse(
        {
            "error": "too_many_requests",
            "error_description": "Too many registrations from this address; try later.",
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def _client_metadata(request):
    """The request's JSON body, or the refusal: JSON only, at most MAX_REGISTRATION_BYTES
    (by the announced length, then by what was read)."""
    if request.content_type != "application/json":
        return None, _registration_error("Send the client metadata as application/json.", 415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REGISTRATION_BYTES or len(request.body) > MAX_REGISTRATION_BYTES:
        return None, _registration_error("The client metadata is too large.", 413)
    try:
        return json.loads(request.body), None
    except (ValueError, RecursionError):
        return None, _registration_error("The body is not JSON.")


@csrf_exempt
@require_POST
def register_client(request):
    """RFC 7591 registration, strict (registration.ClientMetadataSerializer), throttled per
    address. The client can do nothing until a tenant admin approves it."""
    refusal = _throttled(request)
    if refusal is not None:
        return refusal
    data, refusal = _client_metadata(request)
    if refusal is not None:
        return refusal
    metadata = ClientMetadataSerializer(data=data)
    if not metadata.is_valid():
        return _registration_error(registration_error_description(metadata.errors))
    fields = metadata.validated_data
    try:
        application = mcp_client_register(
            client_name=fields["client_name"], redirect_uris=fields["redirect_uris"]
        )
    except ValidationError:
        return _registration_error("A redirect URI is not allowed (https, no wildcard).")
    return JsonResponse(registration_answer(application, fields), status=201)


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
    """DOT's approval form and the tenant the connection writes to, chosen among `tenants`
    (the approving admin's, McpAuthorizationView._tenants): the form cannot be built
    without them, so no placeholder list can ever be offered or validated against."""

    def __init__(self, *args, tenants: QuerySet[Tenant], **kwargs):
        super().__init__(*args, **kwargs)
        # Not required: Deny names no tenant (form_valid requires one for Approve).
        self.fields["tenant"] = forms.ModelChoiceField(
            queryset=tenants,
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

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenants": self._tenants()}

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


class McpTokenView(TokenView):
    """DOT's token endpoint, for the grants this server supports only: any other grant type
    is refused here (RFC 6749 §5.2, `unsupported_grant_type`), before DOT routes the device
    code grant to a handler that expects a `device_code`."""

    def post(self, request, *args, **kwargs):
        # the grants the metadata advertises (OAUTH2_PROVIDER's OAUTH2_GRANT_TYPES_SUPPORTED)
        if request.POST.get("grant_type") not in oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED:
            return JsonResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Use authorization_code or refresh_token.",
                },
                status=400,
                headers={"Cache-Control": "no-store"},
            )
        return super().post(request, *args, **kwargs)
