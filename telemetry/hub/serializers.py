"""The hub API's bodies (hub-records-api.md): what `emit_hub_record` accepts and what the hub
answers. The serializers define the OpenAPI document (and so the GPT action schema) and word
every field error; `telemetry.hub.validation` answers plainly valid bodies without them."""

from django.core.validators import RegexValidator
from rest_framework import serializers

from claresia.models import SLUG_PATTERN
from telemetry.hub.models import HubRecord
from telemetry.hub.validation import (
    ERROR_CODE_PATTERN,
    MAX_ERROR_CODE,
    MAX_LATENCY_MS,
    MAX_MODEL,
    MAX_RECORD_KEY,
    MAX_SKILL_ID,
    MAX_TOKENS,
    UNSTORABLE,
    accepted_values,
    storable,
    storable_json,
)


class StrictCharField(serializers.CharField):
    """A JSON string only (no number coerced to text), storable in PostgreSQL."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not storable(data):
            raise serializers.ValidationError(UNSTORABLE)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only (no "12" string, no 12.5, no true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class InputsField(serializers.DictField):
    """The skill's inputs: any JSON object, every string in it storable."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        if not storable_json(data):
            raise serializers.ValidationError(UNSTORABLE)
        return data


class Usage(serializers.Serializer):
    input_tokens = StrictIntegerField(min_value=0, max_value=MAX_TOKENS)
    output_tokens = StrictIntegerField(min_value=0, max_value=MAX_TOKENS)


class EmitHubRecord(serializers.Serializer):
    skill_id = StrictCharField(
        max_length=MAX_SKILL_ID,
        validators=[RegexValidator(SLUG_PATTERN, "Not a skill id.")],
        help_text="The skill's id, as given in your instructions.",
    )
    record_key = StrictCharField(
        required=False,
        max_length=MAX_RECORD_KEY,
        help_text="Optional idempotency key: the same key returns the same record.",
    )
    status = serializers.ChoiceField(
        choices=HubRecord.Status.values,
        default=HubRecord.Status.COMPLETED,
        help_text=(
            "'refused' when the user declined to share the output; 'failed' when the skill "
            "could not finish (say why in error_code)."
        ),
    )
    error_code = StrictCharField(
        required=False,
        max_length=MAX_ERROR_CODE,
        validators=[RegexValidator(ERROR_CODE_PATTERN, "A short code: a-z, 0-9, _ . -")],
        help_text="Why a 'failed' run failed, as a short code, e.g. timeout.",
    )
    inputs = InputsField(required=False, help_text="The inputs the skill ran with.")
    output = StrictCharField(
        allow_blank=True, trim_whitespace=False, help_text="The skill's full output, Markdown."
    )
    model = StrictCharField(required=False, max_length=MAX_MODEL, help_text="e.g. gpt-4o")
    usage = Usage(required=False)
    latency_ms = StrictIntegerField(required=False, min_value=0, max_value=MAX_LATENCY_MS)

    def validate(self, attrs):
        if attrs["status"] == HubRecord.Status.COMPLETED and not attrs["output"].strip():
            raise serializers.ValidationError({"output": ["Give the skill's output."]})
        return attrs


class HubRecordAnswer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.URLField()
    footer = serializers.CharField(help_text="End your reply with this line, unchanged.")
    cost_usd = serializers.CharField(help_text="US dollars, 2 decimals.")
    latency_ms = serializers.IntegerField()


class HubRecordDetail(HubRecordAnswer):
    skill_id = serializers.CharField()
    status = serializers.ChoiceField(choices=HubRecord.Status.values)
    cost_estimated = serializers.BooleanField()
    latency_estimated = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class FieldErrors(serializers.Serializer):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Detail(serializers.Serializer):
    detail = serializers.CharField()


def emit_hub_record_values(data) -> dict:
    """`emit_hub_record`'s validated body, for the HTTP API and the MCP tool alike: the fast
    check for plainly valid bodies, else the serializer, which raises ValidationError with the
    field messages."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
    values = accepted_values(data)
    if values is None:  # not plainly valid: the serializer decides, and words the errors
        incoming = EmitHubRecord(data=data)
        incoming.is_valid(raise_exception=True)
        values = incoming.validated_data
    return values
