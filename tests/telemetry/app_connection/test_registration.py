"""Client registration (RFC 7591) is cheap and bounded: no secret is made or hashed for a
public client, `application_type` is accepted, registrations are throttled per address, the
never-approved ones are removed after a day by a periodic task, and the server keeps answering
while many registrations arrive at once."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from telemetry.app_connection.models import McpClient, McpRedeemedCode
from telemetry.app_connection.services import (
    mcp_client_approve,
    mcp_client_register,
    mcp_clients_unapproved_remove,
)
from telemetry.tasks import mcp_clients_unapproved_remove_task
from tests.telemetry.app_connection.helpers import CHATGPT_REDIRECT_URI, mcp_token

REGISTRATION = {"client_name": "ChatGPT", "redirect_uris": [CHATGPT_REDIRECT_URI]}
NOW = timezone.now()


def _register(client, metadata=None, **extra):
    return client.post(
        "/oauth/register",
        data=json.dumps(metadata or REGISTRATION),
        content_type="application/json",
        **extra,
    )


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


@pytest.mark.django_db
def test_a_public_client_is_registered_without_a_secret(client):
    response = _register(client)

    assert response.status_code == 201
    application = Application.objects.get(client_id=response.json()["client_id"])
    assert application.client_secret == ""
    assert application.hash_client_secret is False
    assert application.registration_source == Application.RegistrationSource.DCR


@pytest.mark.django_db
@pytest.mark.parametrize("application_type", ["web", "native"])
def test_application_type_is_accepted_and_answered(client, application_type):
    response = _register(client, {**REGISTRATION, "application_type": application_type})

    assert response.status_code == 201
    assert response.json()["application_type"] == application_type


@pytest.mark.django_db
def test_application_type_defaults_to_web(client):
    assert _register(client).json()["application_type"] == "web"


@pytest.mark.django_db
@pytest.mark.parametrize("application_type", ["service", "", 1, None, ["web"]])
def test_another_application_type_is_refused(client, application_type):
    response = _register(client, {**REGISTRATION, "application_type": application_type})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not McpClient.objects.exists()


@pytest.mark.django_db
def test_an_address_gets_30_registrations_an_hour(client):
    # given: the default rate, 30 registrations from one address
    for _ in range(30):
        assert _register(client).status_code == 201

    # when
    throttled = _register(client)

    # then
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 3601
    assert McpClient.objects.count() == 30


def _registered(created):
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_REDIRECT_URI])
    Application.objects.filter(pk=application.pk).update(created=created)
    return application


@pytest.mark.django_db
def test_never_approved_registrations_older_than_a_day_are_removed(tenant):
    # given: a stale never-approved registration, a fresh one, an approved one as old
    stale = _registered(NOW - timedelta(hours=25))
    fresh = _registered(NOW - timedelta(hours=23))
    approved = _registered(NOW - timedelta(days=30))
    mcp_client_approve(client_id=approved.client_id, tenant=tenant, user=None)

    # when
    removed = mcp_clients_unapproved_remove(now=NOW)

    # then
    assert removed == 1
    assert not Application.objects.filter(pk=stale.pk).exists()
    assert set(McpClient.objects.values_list("application_id", flat=True)) == {
        fresh.pk,
        approved.pk,
    }


@pytest.mark.django_db
def test_a_registration_with_a_token_is_kept_even_when_unbound(tenant):
    # given: a client with a token, with no trace of an approval left
    mcp_token(tenant)
    Application.objects.update(created=NOW - timedelta(days=3))
    McpClient.objects.update(tenant=None, approved_at=None)

    # when
    removed = mcp_clients_unapproved_remove(now=NOW)

    # then
    assert removed == 0
    assert AccessToken.objects.exists()


@pytest.mark.django_db
def test_a_metadata_document_client_never_approved_is_removed_too():
    # given: a client DOT materialised from a Client ID Metadata Document a day ago
    Application.objects.create(
        client_id="https://client.example/oauth/metadata.json",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=CHATGPT_REDIRECT_URI,
        client_secret="",
        hash_client_secret=False,
        registration_source=Application.RegistrationSource.CIMD,
    )
    Application.objects.update(created=NOW - timedelta(days=2))

    # when / then
    assert mcp_clients_unapproved_remove(now=NOW) == 1
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_redeemed_codes_are_forgotten_after_a_day(tenant):
    application = _registered(NOW)
    old = McpRedeemedCode.objects.create(code_checksum="a" * 64, application=application)
    McpRedeemedCode.objects.filter(pk=old.pk).update(redeemed_at=NOW - timedelta(hours=25))
    McpRedeemedCode.objects.create(code_checksum="b" * 64, application=application)

    mcp_clients_unapproved_remove(now=NOW)

    assert list(McpRedeemedCode.objects.values_list("code_checksum", flat=True)) == ["b" * 64]


@pytest.mark.django_db
def test_the_periodic_task_removes_them():
    # given
    _registered(timezone.now() - timedelta(days=2))

    # when: beat's task runs (in-process: no broker in the tests)
    removed = mcp_clients_unapproved_remove_task.delay().get()

    # then
    assert removed == 1
    assert not McpClient.objects.exists()
    entry = django_settings.CELERY_BEAT_SCHEDULE["telemetry-mcp-clients-unapproved-remove"]
    assert entry["task"] == mcp_clients_unapproved_remove_task.name


class _PooledWSGIServer(WSGIServer):
    """A WSGI server with a fixed pool of request threads, as gunicorn's gthread worker:
    a flood queues for the pool (and holds as many database connections as threads)."""

    request_queue_size = 2048  # gunicorn's backlog: a burst waits, it is not reset

    def __init__(self, *args, threads: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(threads)

    def process_request(self, request, client_address):
        self._pool.submit(self._handle, request, client_address)

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:  # a broken connection: the server logs it, the pool goes on
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            connections.close_all()

    def server_close(self):
        super().server_close()
        self._pool.shutdown(wait=True)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def pooled_server(transactional_db):
    server = make_server(
        "127.0.0.1",
        0,
        WSGIHandler(),
        server_class=lambda *a, **k: _PooledWSGIServer(*a, threads=8, **k),
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=30)


def test_healthz_answers_while_80_registrations_run_at_once(pooled_server, settings):
    # given: 80 clients about to register at the same moment (the rate lets them all in)
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    _rates(settings, oauth_register="1000/min")
    start = threading.Barrier(81, timeout=30)

    def register() -> int:
        start.wait()
        response = httpx.post(f"{pooled_server}/oauth/register", json=REGISTRATION, timeout=120)
        return response.status_code

    with ThreadPoolExecutor(80) as clients:
        registrations = [clients.submit(register) for _ in range(80)]
        # when: /healthz is asked as they arrive, and for as long as any is unanswered
        start.wait()
        health = []
        while True:
            health.append(httpx.get(f"{pooled_server}/healthz", timeout=10).status_code)
            if all(future.done() for future in registrations):
                break
        statuses = [future.result() for future in registrations]

    # then: every health check answered within the timeout, and every registration was made
    assert health
    assert set(health) == {200}
    assert statuses == [201] * 80
    assert McpClient.objects.count() == 80
