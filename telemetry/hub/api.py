"""The hub API (hub-records-api.md): POST/GET /hub/v1/records. Views parse, call one service,
present; errors are `{"errors": {field: [...]}}` (400) or `{"detail": "..."}` (other 4xx)."""

import json
import math
import re
import threading

import orjson
from django.core.exceptions import RequestDataTooBig
from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from claresia.models import SLUG_PATTERN
from telemetry.hub import pricing
from telemetry.hub.auth import HubTokenAuthentication, HubTokenThrottle
from telemetry.hub.footer import cost_display
from telemetry.hub.models import RECORD_ID_PATTERN, HubRecord
from telemetry.hub.services import (
    OpenAIContext,
    SkillNotFound,
    hub_record_emit,
    hub_record_footer,
    hub_record_get,
    hub_record_url,
)
from telemetry.hub.validation import (
    MAX_BODY_CHARACTERS,
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
        help_text="'refused' when the user declined to share the output.",
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


def _answer(record: HubRecord) -> dict:
    return {
        "id": record.id,
        "url": hub_record_url(record),
        "footer": hub_record_footer(record),
        "cost_usd": cost_display(record.cost_usd),
        "latency_ms": record.latency_ms,
    }


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for field, value in errors.items():
            flat.update(_flatten(value, f"{prefix}{field}" if not prefix else f"{prefix}.{field}"))
        return flat
    if isinstance(errors, list) and all(not isinstance(item, dict | list) for item in errors):
        return {prefix or "non_field_errors": [str(item) for item in errors]}
    if isinstance(errors, list):
        flat = {}
        for index, item in enumerate(errors):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(errors)]}


def hub_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": _flatten(response.data)}
    elif response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        # A body that is not JSON at all: still the contract's 400 shape.
        response.data = {"errors": {"body": [str(exc.detail)]}}
    return response


_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # 1e400 reads as infinity, which no JSON column can store.
        raise ValueError("numbers must be finite")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class HubJSONParser(parsers.JSONParser):
    """JSON only (anything else is a 415); a body nested too deep, a number too large for a
    float, NaN or Infinity are 400s, not crashes.

    UTF-8 bodies are read with orjson (a tenth of the standard parser's time). Whatever orjson
    refuses goes to the standard parser, which words the error, or takes what orjson does not:
    a lone surrogate escape then reaches the fields and gets their message. orjson reads an
    integer beyond 64 bits as a float: a body with 19 digits in a row goes to the standard
    parser too, so no input loses precision."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        if encoding.lower().replace("-", "") == "utf8" and not _LONG_NUMBER.search(raw):
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
        try:
            text = raw.decode(encoding)
            return json.loads(text, parse_float=_finite, parse_constant=_refuse_constant)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except (LookupError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError too
            raise exceptions.ParseError(f"JSON parse error - {error}") from None


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The body is over {MAX_BODY_CHARACTERS:,} characters."
    default_code = "payload_too_large"


class SkillNotFoundError(exceptions.NotFound):
    default_detail = "This tenant has no skill with this id."


ERRORS = {
    401: OpenApiResponse(Detail, description="No, wrong or revoked hub token."),
    429: OpenApiResponse(Detail, description="Throttled; see Retry-After."),
}


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Answers in JSON whatever `Accept` says (a GPT action reads JSON; never a 406). Parsers
    are chosen as usual, so a body that is not JSON is still a 415."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class HubAPIView(APIView):
    authentication_classes = [HubTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [HubTokenThrottle]
    parser_classes = [HubJSONParser]
    # JSON only: no browsable HTML API on a machine-to-machine endpoint.
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation

    def get_exception_handler(self):
        return hub_exception_handler


class HubRecordsView(HubAPIView):
    @extend_schema(
        operation_id="emit_hub_record",
        summary="Record this skill's output",
        description=(
            "Call once with the skill's output when you finish. End your reply with the "
            "`footer` it returns, unchanged. Use status 'refused' if the user declines to "
            "share the output."
        ),
        request=EmitHubRecord,
        responses={
            201: OpenApiResponse(HubRecordAnswer, description="Recorded."),
            200: OpenApiResponse(HubRecordAnswer, description="Already recorded: same record."),
            400: OpenApiResponse(FieldErrors, description="Field-level errors."),
            404: OpenApiResponse(Detail, description="The tenant has no such skill."),
            413: OpenApiResponse(Detail, description="Body over 100,000 characters."),
            415: OpenApiResponse(Detail, description="Body is not JSON."),
            **ERRORS,
        },
    )
    def post(self, request):
        self._check_size(request)
        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        values = accepted_values(data)
        if values is None:  # not plainly valid: the serializer decides, and words the errors
            incoming = _emit_serializer(data)
            incoming.is_valid(raise_exception=True)
            values = incoming.validated_data
        usage = values.get("usage")
        try:
            result = hub_record_emit(
                token=request.auth,
                skill_id=values["skill_id"],
                output=values["output"],
                status=values["status"],
                record_key=values.get("record_key", ""),
                inputs=values.get("inputs"),
                model=values.get("model", ""),
                usage=pricing.Usage(**usage) if usage else None,
                latency_ms=values.get("latency_ms"),
                context=_openai_context(request),
            )
        except SkillNotFound:
            raise SkillNotFoundError() from None
        return Response(
            _answer(result.record),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @staticmethod
    def _check_size(request) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # UTF-8 spends at most 4 bytes a character: longer bodies fail without being read.
        if length > 4 * MAX_BODY_CHARACTERS:
            raise PayloadTooLarge()
        try:
            body = request._request.body
        except RequestDataTooBig:
            raise PayloadTooLarge() from None
        if len(body) > MAX_BODY_CHARACTERS and (
            len(body.decode("utf-8", errors="replace")) > MAX_BODY_CHARACTERS
        ):
            raise PayloadTooLarge()


_per_thread = threading.local()


def _emit_serializer(data) -> EmitHubRecord:
    """An EmitHubRecord for `data`. Building one deep-copies all its fields (a tenth of the
    request's time, bench_hub), so each thread reuses its own, cleared of the last call."""
    serializer = getattr(_per_thread, "emit", None)
    if serializer is None:
        serializer = _per_thread.emit = EmitHubRecord(data=data)
        return serializer
    serializer.initial_data = data
    for attribute in ("_validated_data", "_errors", "_data"):
        serializer.__dict__.pop(attribute, None)
    return serializer


def _openai_context(request) -> OpenAIContext:
    def header(name: str) -> str:
        return request.META.get(name, "").replace("\x00", "")[:200]

    return OpenAIContext(
        conversation_id=header("HTTP_OPENAI_CONVERSATION_ID"),
        ephemeral_user_id=header("HTTP_OPENAI_EPHEMERAL_USER_ID"),
        gpt_id=header("HTTP_OPENAI_GPT_ID"),
    )


class HubRecordView(HubAPIView):
    @extend_schema(
        operation_id="get_hub_record",
        summary="Read a hub record of this tenant",
        parameters=[
            OpenApiParameter(
                "record_id",
                str,
                OpenApiParameter.PATH,
                pattern=RECORD_ID_PATTERN,
                description="The record's id, e.g. rec_01JD….",
            )
        ],
        responses={
            200: HubRecordDetail,
            404: OpenApiResponse(Detail, description="No such record for this tenant."),
            **ERRORS,
        },
    )
    def get(self, request, record_id: str):
        record = hub_record_get(token=request.auth, record_id=record_id)
        if record is None:
            raise exceptions.NotFound("No record with this id.")
        return Response(
            {
                **_answer(record),
                "skill_id": record.skill.skill_id,
                "status": record.status,
                "cost_estimated": record.cost_estimated,
                "latency_estimated": record.latency_estimated,
                "created_at": serializers.DateTimeField().to_representation(record.created_at),
            }
        )
