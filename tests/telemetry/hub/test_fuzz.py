"""Property-based fuzzing of the hub API against its own OpenAPI document (schemathesis).

Bounded (a fixed number of generated cases per operation and mode), so it runs in seconds; any
5xx, undocumented status or content type, or answer off its schema fails the test. The document
is the one /hub/v1/schema serves (test_hub_schema checks they are the same)."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from telemetry.hub.schema import hub_openapi_document
from telemetry.hub.services import hub_token_issue
from tests.factories import make_skill

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_dict(json.loads(json.dumps(hub_openapi_document())))
EMIT = SCHEMA["/hub/v1/records"]["POST"]
GET = SCHEMA["/hub/v1/records/{record_id}"]["GET"]
BOUNDED = settings(
    max_examples=75,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def hub_app(db, settings):
    """The WSGI app, keeping the test's connection open between requests (as Django's test
    client does), and a tenant whose skills generated ids often hit ("a", "0")."""
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    app = get_wsgi_application()
    yield app
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(tenant):
    make_skill(tenant, skill_id="a")
    make_skill(tenant, skill_id="0", name="Zero")
    return hub_token_issue(tenant=tenant).plaintext


def _call(case, app, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, app=app)


@BOUNDED
@given(case=EMIT.as_strategy(GenerationMode.POSITIVE))
def test_valid_emit_bodies_never_fail_or_leave_the_schema(hub_app, token, case):
    _call(case, hub_app, token)


@BOUNDED
@given(case=EMIT.as_strategy(GenerationMode.NEGATIVE))
def test_invalid_emit_bodies_never_fail_or_leave_the_schema(hub_app, token, case):
    _call(case, hub_app, token)


@BOUNDED
@given(case=GET.as_strategy(GenerationMode.POSITIVE))
def test_record_reads_never_fail_or_leave_the_schema(hub_app, token, case):
    _call(case, hub_app, token)
