"""The hub API (hub-records-api.md): POST/GET /hub/v1/records. Views parse, call one service,
present. Their bodies are in serializers.py, the JSON parser in parsers.py, the JSON-only answer
in negotiation.py, the error shapes in exceptions.py.

A plainly valid `POST /hub/v1/records` (`_plain_emit`) is answered without DRF's request
wrapping, negotiation and rendering machinery, with the same authentication, throttle,
validation, service, status, headers and body; anything doubtful goes to the DRF view
(tests/telemetry/hub/test_plain_path.py compares the two answers byte for byte)."""

import functools

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from claresia.throttling import WindowThrottle
from telemetry.hub.auth import HubClient, HubTokenAuthentication, HubTokenThrottle
from telemetry.hub.exceptions import PayloadTooLarge, hub_exception_handler
from telemetry.hub.footer import cost_display
from telemetry.hub.models import RECORD_ID_PATTERN, HubRecord
from telemetry.hub.negotiation import JSONOnlyNegotiation
from telemetry.hub.parsers import LONG_NUMBER, HubJSONParser
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
    hub_token_authenticate,
)
from telemetry.hub.validation import MAX_BODY_CHARACTERS, accepted_values


def _answer(record: HubRecord) -> dict:
    url = hub_record_url(record)
    return {
        "id": record.id,
        "url": url,
        "footer": hub_record_footer(record, url=url),
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
    @classmethod
    def as_view(cls, **initkwargs):
        drf_view = super().as_view(**initkwargs)

        def view(request, *args, **kwargs):
            response = _plain_emit(request)
            return drf_view(request, *args, **kwargs) if response is None else response

        # DRF's marks (cls, initkwargs: the schema generator reads them) and csrf_exempt.
        return functools.update_wrapper(view, drf_view)

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
        # SkillNotFound is the hub exception handler's 404.
        result = hub_record_emit_values(
            values, token=request.auth, context=_openai_context(request)
        )
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


# What HubRecordsView's DRF path answers with besides the body: APIView's default headers (one
# renderer, so no `Vary: Accept`) and the renderer's media type (JSONRenderer has no charset).
_ALLOW = ", ".join(HubRecordsView().allowed_methods)
_MEDIA_TYPE = JSONRenderer.media_type
# The JSON parser's media type as a client sends it; anything else goes to DRF's negotiation.
_PLAIN_CONTENT_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})
_throttle = WindowThrottle(HubTokenThrottle.scope)  # the same key and window as the DRF throttle


def _answer_json(answer: dict) -> bytes:
    """JSONRenderer().render(answer), byte for byte, for `_answer`'s dict (str and int values):
    orjson writes compact separators and non-ASCII as UTF-8, as DRF's defaults (COMPACT_JSON,
    UNICODE_JSON) do; DRF then escapes U+2028 and U+2029, and so does this."""
    return (
        orjson.dumps(answer)
        .replace(b"\xe2\x80\xa8", b"\\u2028")
        .replace(b"\xe2\x80\xa9", b"\\u2029")
    )


def _plain_response(body: bytes, *, status: int, headers=()) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=_MEDIA_TYPE)
    for name, value in headers:
        response[name] = value
    response["Allow"] = _ALLOW
    return response


def _plain_refusal(error: Exception) -> HttpResponse:
    # The DRF path's handler words it, sets its headers (Retry-After) and the rollback; its
    # Response is only read here (its Content-Type is the renderer's, set below).
    answer = hub_exception_handler(error, {})
    headers = [item for item in answer.items() if item[0].lower() != "content-type"]
    return _plain_response(
        JSONRenderer().render(answer.data), status=answer.status_code, headers=headers
    )


def _plain_emit(request) -> HttpResponse | None:
    """HubRecordsView.post's answer for a plainly valid call, or None: then the DRF view
    answers. It returns None before anything is counted or written (the DRF path then
    authenticates, throttles and validates anew); once the throttle has counted the call, it
    answers itself, as the DRF path would."""
    meta = request.META
    if request.method != "POST" or meta.get("CONTENT_TYPE") not in _PLAIN_CONTENT_TYPES:
        return None
    if request.encoding is None and settings.DEFAULT_CHARSET.lower() not in ("utf-8", "utf8"):
        return None
    scheme, _, credentials = meta.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    # HubTokenAuthentication's check; every failure (its 401) is the DRF path's to answer.
    token = hub_token_authenticate(plaintext=credentials.strip())
    if token is None:
        return None
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    # Within the bound in bytes is within it in characters; longer bodies are DRF's (413).
    if not 0 < length <= MAX_BODY_CHARACTERS:
        return None
    body = request.body
    # HubJSONParser's own fast read; whatever it leaves to the standard parser goes to DRF.
    if len(body) > MAX_BODY_CHARACTERS or LONG_NUMBER.search(body):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    values = accepted_values(data) if type(data) is dict else None
    if values is None:
        return None
    # As DRF's Request leaves them on the HttpRequest for middleware and logging.
    request.user, request.auth = HubClient(token), token
    wait = _throttle.wait_if_over(str(token.pk))
    if wait is not None:
        return _plain_refusal(exceptions.Throttled(wait))
    try:
        result = hub_record_emit_values(values, token=token, context=_openai_context(request))
    except SkillNotFound as error:
        return _plain_refusal(error)
    return _plain_response(
        _answer_json(_answer(result.record)),
        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
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
