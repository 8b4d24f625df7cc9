"""The RFC 7591 client metadata the registration endpoint (oauth.register_client) accepts, as a
DRF serializer: what ChatGPT sends and nothing more. A public client for the authorization-code
grant (with refresh tokens), 1 to 5 redirect URIs, `application_type` web or native (OpenID
Connect DCR §2, which MCP asks DCR clients to send). A requested `token_endpoint_auth_method`
is not read: the server replaces it with `none` (RFC 7591 §3.2.1 lets it).

Each refusal is RFC 7591 §3.2.2's `invalid_client_metadata` with one description per field,
the first field in the order below that fails (registration_error_description).

Why not django-oauth-toolkit's DynamicClientRegistrationView: docs/architecture.md, "OAuth:
what is django-oauth-toolkit's, what is ours"."""

from django.conf import settings
from rest_framework import serializers
from rest_framework.settings import api_settings

MAX_REDIRECT_URIS = 5
MAX_REDIRECT_URI_LENGTH = 2000
APPLICATION_TYPES = ("web", "native")
GRANT_TYPES = ("authorization_code", "refresh_token")


class _Text(serializers.CharField):
    """A JSON string, nothing else: DRF's CharField would take 5 for "5"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _no_space_or_fragment(uri: str) -> None:
    if " " in uri or "#" in uri:
        raise serializers.ValidationError("A redirect URI has no space and no fragment.")


class ClientMetadataSerializer(serializers.Serializer):
    redirect_uris = serializers.ListField(
        child=_Text(
            max_length=MAX_REDIRECT_URI_LENGTH,
            trim_whitespace=False,
            validators=[_no_space_or_fragment],
        ),
        min_length=1,
        max_length=MAX_REDIRECT_URIS,
    )
    grant_types = serializers.ListField(
        child=serializers.ChoiceField(GRANT_TYPES), default=["authorization_code"]
    )
    response_types = serializers.ListField(child=_Text(), default=["code"])
    client_name = _Text(max_length=100, allow_blank=True, trim_whitespace=False, default="")
    application_type = serializers.ChoiceField(APPLICATION_TYPES, default="web")

    def validate_grant_types(self, grants: list) -> list:
        if "authorization_code" not in grants:
            raise serializers.ValidationError("grant_types must include authorization_code.")
        return grants

    def validate_response_types(self, responses: list) -> list:
        if responses != ["code"]:
            raise serializers.ValidationError("Only the response type 'code' is supported.")
        return responses

    def validate_client_name(self, name: str) -> str:
        return name.strip()


# The description of each field's refusal (a field-specific validate_* message wins).
_DESCRIPTIONS = {
    api_settings.NON_FIELD_ERRORS_KEY: "Send a JSON object.",
    "redirect_uris": f"Give 1 to {MAX_REDIRECT_URIS} redirect_uris (strings).",
    "grant_types": "Only authorization_code and refresh_token are supported.",
    "response_types": "Only the response type 'code' is supported.",
    "client_name": "client_name must be text of at most 100 characters.",
    "application_type": "application_type must be 'web' or 'native'.",
}
_OWN_MESSAGES = {
    "grant_types must include authorization_code.",
    "Only the response type 'code' is supported.",
}


def registration_error_description(errors: dict) -> str:
    """The one description answered for a refused registration: the first failing field's."""
    field, messages = next(iter(errors.items()))
    if isinstance(messages, list):  # a list field's item errors come as {index: messages}
        own = [str(m) for m in messages if str(m) in _OWN_MESSAGES]
        if own:
            return own[0]
    return _DESCRIPTIONS[field]


def registration_answer(application, metadata: dict) -> dict:
    """RFC 7591 §3.2.1: the client's metadata as registered, with what the server chose."""
    answer = {
        "client_id": application.client_id,
        "client_id_issued_at": int(application.created.timestamp()),
        "redirect_uris": metadata["redirect_uris"],
        "grant_types": list(GRANT_TYPES),
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": settings.MCP_SCOPE,
        "application_type": metadata["application_type"],
    }
    if application.name:
        answer["client_name"] = application.name
    return answer
