"""The approval page at /oauth/authorize/: who asks and where the code goes, a warning when that
is not ChatGPT's callback, Approve and Deny answered with a page that navigates on (no 302 after
the form: CSP form-action), RFC 9207 `iss` on errors too, and the strict policy kept everywhere."""

import base64
import hashlib
import html
import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from django.conf import settings

from telemetry.app_connection.models import McpClient
from telemetry.app_connection.services import (
    is_chatgpt_callback,
    mcp_client_label,
    mcp_client_register,
    mcp_client_touch,
)
from tests.factories import make_user
from tests.telemetry.app_connection.helpers import call, mcp_token, rpc

pytestmark = pytest.mark.django_db

CHATGPT_CALLBACK = "https://chatgpt.com/connector/oauth/AbC123_-x"
ATTACKER = "https://attacker.example/steal"


def _authorize_query(client_id: str, redirect_uri: str, state: str = "state-1") -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "state": state,
            "scope": settings.MCP_SCOPE,
            "resource": "http://testserver/mcp",
        }
    )


def _form_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r'<input type="hidden"[^>]*>', page):
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if name:
            fields[html.unescape(name[1])] = html.unescape(value[1]) if value else ""
    return fields


def _navigates_to(page: str) -> dict[str, str]:
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]*)">', page)
    assert refresh, page
    url = html.unescape(refresh[1])
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} | {"_url": url}


@pytest.fixture
def tenant_admin(client, tenant):
    user = make_user("ana", tenants=[tenant])
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "uri",
    [
        "https://chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com/connector/oauth/abc-123",
    ],
)
def test_chatgpts_callbacks_are_recognised(uri):
    assert is_chatgpt_callback(uri)


@pytest.mark.parametrize(
    "uri",
    [
        ATTACKER,
        "http://chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com.attacker.example/connector_platform_oauth_redirect",
        "https://user@chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com:8443/connector_platform_oauth_redirect",
        "https://chatgpt.com/connector/oauth/",
        "https://chatgpt.com/connector/oauth/a/../../steal",
        "https://chatgpt.com/connector_platform_oauth_redirect?next=https://attacker.example",
        "https://[::1",
    ],
)
def test_other_redirect_uris_are_not_chatgpts(uri):
    assert not is_chatgpt_callback(uri)


def test_the_page_says_who_asks_where_the_code_goes_and_what_it_may_do(
    client, tenant_admin, tenant
):
    # given
    with time_machine.travel("2026-11-30 09:15:00Z", tick=False):
        application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])

    # when
    response = client.get(
        f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    )

    # then
    page = response.text
    assert response.status_code == 200
    assert "Claresia administration" in page and "Django administration" not in page
    assert '<span id="client-name">ChatGPT</span>' in page
    assert '<strong id="redirect-host">chatgpt.com</strong>' in page
    assert "2026-11-30 09:15 UTC" in page
    assert "write hub records" in page and "footer" in page
    assert f'<option value="{tenant.pk}">Dainese</option>' in page
    assert 'name="allow" value="on">Approve</button>' in page
    assert 'name="deny" value="on">Deny</button>' in page


def test_no_warning_for_chatgpts_callback(client, tenant_admin):
    # given
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])

    # when
    response = client.get(
        f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    )

    # then
    assert "not-chatgpt" not in response.text


def test_a_warning_when_the_code_would_go_elsewhere(client, tenant_admin):
    # given: the consent-phishing registration, named "ChatGPT"
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[ATTACKER])

    # when
    response = client.get(f"/oauth/authorize/?{_authorize_query(application.client_id, ATTACKER)}")

    # then
    page = response.text
    assert 'id="not-chatgpt"' in page
    assert "Warning: this is not ChatGPT's callback." in page
    assert "<strong>attacker.example</strong>, not to chatgpt.com" in page


def test_approve_answers_a_page_that_navigates_to_the_callback_with_iss(
    client, tenant_admin, tenant
):
    # given
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    fields = _form_fields(client.get(url).text)

    # when
    response = client.post(url, {**fields, "tenant": tenant.pk, "allow": "on"})

    # then: a 200 page (no redirect for form-action to block), never cached
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    query = _navigates_to(response.text)
    assert query["_url"].startswith(CHATGPT_CALLBACK + "?")
    assert query["state"] == "state-1" and query["code"]
    assert query["iss"] == "http://testserver"
    assert McpClient.objects.get(application=application).tenant == tenant


def test_deny_navigates_to_the_callback_with_access_denied_and_iss(client, tenant_admin, tenant):
    # given
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    fields = _form_fields(client.get(url).text)

    # when
    response = client.post(url, {**fields, "tenant": tenant.pk, "deny": "on"})

    # then
    query = _navigates_to(response.text)
    assert query["error"] == "access_denied"
    assert query["state"] == "state-1"
    assert query["iss"] == "http://testserver"
    assert "code" not in query
    assert McpClient.objects.get(application=application).tenant is None


def test_a_person_admin_of_no_tenant_can_still_deny(client, db):
    # given
    client.force_login(make_user("viewer-of-nothing"))
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    page = client.get(url).text
    assert "Approve</button>" not in page

    # when
    response = client.post(url, {**_form_fields(page), "deny": "on"})

    # then
    assert _navigates_to(response.text)["error"] == "access_denied"


def test_approve_without_a_tenant_is_refused_with_a_message(client, tenant_admin):
    # given
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    fields = _form_fields(client.get(url).text)

    # when
    response = client.post(url, {**fields, "allow": "on"})

    # then
    assert response.status_code == 200
    assert "Choose the tenant this connection writes to." in response.text
    assert McpClient.objects.get(application=application).tenant is None


@pytest.mark.parametrize("button", ["allow", "deny"])
def test_the_approval_page_and_its_answer_keep_the_strict_policy(
    client, tenant_admin, tenant, button
):
    # given
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    page = client.get(url)

    # when
    answer = client.post(url, {**_form_fields(page.text), "tenant": tenant.pk, button: "on"})

    # then
    for response in (page, answer):
        policy = response["Content-Security-Policy"]
        assert "form-action 'self'" in policy
        assert "script-src 'self'" in policy


@pytest.mark.parametrize(
    "path", ["/admin/login/", "/admin/", "/command-center/", "/command-center/distribution/plugin/"]
)
def test_every_other_page_keeps_form_action_self(client, tenant_admin, path):
    # when
    response = client.get(path)

    # then
    assert "form-action 'self'" in response["Content-Security-Policy"]


def test_the_admin_tells_clients_apart_by_name_and_redirect_host(client, tenant, superuser):
    # given: two registrations both named "ChatGPT", one of them not ChatGPT's
    mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    mcp_client_register(client_name="ChatGPT", redirect_uris=[ATTACKER])
    client.force_login(superuser)

    # when
    page = client.get("/admin/telemetry/mcpclient/").text

    # then
    assert "ChatGPT · chatgpt.com" in page
    assert "ChatGPT · attacker.example" in page
    assert "attacker.example (not ChatGPT&#x27;s callback)" in page
    assert page.count('class="field-approval">not approved<') == 2
    assert page.count('class="field-last_use">never<') == 2


def test_a_clients_label_names_its_redirect_host():
    # given
    application = mcp_client_register(client_name="", redirect_uris=[ATTACKER, CHATGPT_CALLBACK])

    # then
    assert mcp_client_label(application) == "unnamed client · attacker.example +1"


def test_a_call_to_mcp_records_the_clients_last_use(client, tenant, skill):
    # given
    token = mcp_token(tenant)

    # when
    with time_machine.travel("2026-11-30 10:00:00Z", tick=False):
        rpc(client, token, call("emit_hub_record", {"skill_id": skill.skill_id, "output": "x"}))

    # then
    used = McpClient.objects.get().last_used_at
    assert used is not None and used.isoformat() == "2026-11-30T10:00:00+00:00"


def test_last_use_is_written_at_most_once_a_minute(django_assert_num_queries):
    # given: a use written at 10:00:00
    application = mcp_client_register(client_name="x", redirect_uris=[CHATGPT_CALLBACK])
    first = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)
    mcp_client_touch(application_id=application.pk, now=first)

    # when: another use 30 s later
    with django_assert_num_queries(0):
        mcp_client_touch(application_id=application.pk, now=first + timedelta(seconds=30))

    # then: no write; the minute's first use stands
    assert McpClient.objects.get(application=application).last_used_at == first


def test_a_reshown_form_never_shows_a_redirect_uri_the_client_did_not_register(
    client, tenant_admin
):
    # given: the form posted back with another redirect URI and no tenant
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    fields = {**_form_fields(client.get(url).text), "redirect_uri": ATTACKER}

    # when
    response = client.post(url, {**fields, "allow": "on"})

    # then
    assert response.status_code == 200
    assert "attacker.example" not in response.text.replace(
        'value="https://attacker.example/steal"', ""
    )


def test_deny_never_sends_the_browser_to_an_unregistered_redirect_uri(client, tenant_admin):
    # given
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[CHATGPT_CALLBACK])
    url = f"/oauth/authorize/?{_authorize_query(application.client_id, CHATGPT_CALLBACK)}"
    fields = {**_form_fields(client.get(url).text), "redirect_uri": ATTACKER}

    # when
    response = client.post(url, {**fields, "deny": "on"})

    # then
    assert response.status_code == 200
    assert 'http-equiv="refresh"' not in response.text
    assert "This redirect URI is not one the client registered." in response.text
