"""The hub API (hub-records-api.md): POST/GET /hub/v1/records. Views parse, call one service,
present. Their bodies are in serializers.py, the JSON parser in parsers.py, the JSON-only answer
in negotiation.py, the error shapes in exceptions.py."""

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from telemetry.hub.auth import HubTokenAuthentication, HubTokenThrottle
from telemetry.hub.exceptions import PayloadTooLarge, SkillNotFoundError, hub_exception_handler
from telemetry.hub.footer import cost_display
from telemetry.hub.models import RECORD_ID_PATTERN, HubRecord
from telemetry.hub.negotiation import JSONOnlyNegotiation
from telemetry.hub.parsers import HubJSONParser
from telemetry.hub.serializers import (
    Detail,
    EmitHubRecord,
    FieldErrors,
    HubRecordAnswer,
    HubRecordDetail,
    emit_hub_record_values,
)
from telemetry.hub.services import (
    OpenAIContext,
    SkillNotFound,
    hub_record_emit_values,
    hub_record_footer,
    hub_record_get,
    hub_record_url,
)
from telemetry.hub.validation import MAX_BODY_CHARACTERS


def _answer(record: HubRecord) -> dict:
    return {
        "id": record.id,
        "url": hub_record_url(record),
        "footer": hub_record_footer(record),
        "cost_usd": cost_display(record.cost_usd),
        "latency_ms": record.latency_ms,
    }


ERRORS = {
    401: OpenApiResponse(Detail, description="No, wrong or revoked hub token."),
    429: OpenApiResponse(Detail, description="Throttled; see Retry-After."),
}


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
        values = emit_hub_record_values(request.data)
        try:
            result = hub_record_emit_values(
                values, token=request.auth, context=_openai_context(request)
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
            body = request.body  # the HttpRequest's own, which DRF's Request exposes
        except RequestDataTooBig:
            raise PayloadTooLarge() from None
        if len(body) > MAX_BODY_CHARACTERS and (
            len(body.decode("utf-8", errors="replace")) > MAX_BODY_CHARACTERS
        ):
            raise PayloadTooLarge()


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
