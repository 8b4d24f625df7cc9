"""The hub API's errors and their shape (hub-records-api.md): `{"errors": {field: [...]}}` for
a 400, `{"detail": "..."}` for any other 4xx (the services' `SkillNotFound` is a 404 in its own
words)."""

from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from telemetry.hub.services import SkillNotFound
from telemetry.hub.validation import MAX_BODY_CHARACTERS


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The body is over {MAX_BODY_CHARACTERS:,} characters."
    default_code = "payload_too_large"


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as the contract's `{field.path: [message, …]}` (the REST
    API's 400 and the MCP tool's error share it)."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for field, value in errors.items():
            flat.update(
                flatten_errors(value, f"{prefix}{field}" if not prefix else f"{prefix}.{field}")
            )
        return flat
    if isinstance(errors, list) and all(not isinstance(item, dict | list) for item in errors):
        return {prefix or "non_field_errors": [str(item) for item in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, item in enumerate(errors):
            flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(errors)]}


def hub_exception_handler(exc, context):
    if isinstance(exc, SkillNotFound):
        # The services' exception carries the REST API's 404 words.
        exc = exceptions.NotFound(SkillNotFound.message)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": flatten_errors(response.data)}
    elif response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        # A body that is not JSON at all: still the contract's 400 shape.
        response.data = {"errors": {"body": [str(exc.detail)]}}
    return response
