"""A ChatGPT connection approved (and denied) in Chromium, under the CSP every page carries
(`form-action 'self'`, as in production): a client registers as ChatGPT does, the tenant admin
logs in at the authorization URL, sees who asks and where the code goes, and Approve (or Deny)
arrives at the client's callback — here a local HTTP server standing in for ChatGPT's.

Chromium applies `form-action` to every redirect after a form's POST (chatgpt-admin-api.md,
"Apps"), so a plain 302 after Approve would never reach the callback: these tests are the proof."""

import base64
import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from claresia.models import TenantMembership
from tests.browser.test_run_through import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PASSWORD = "a-long-test-passphrase"


CALLBACK_PATH = "/connector/oauth/cb-test"


class Callback:
    """ChatGPT's callback, stood in for: records the query of each request to its path and
    answers 200 (404 to anything else, such as the browser's /favicon.ico that may follow the
    callback page and would otherwise be read as the last, empty, callback)."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.arrived = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                query = parse_qs(parts.query)
                callback.queries.append({key: values[0] for key, values in query.items()})
                callback.arrived.set()
                body = b"<!doctype html><title>callback</title><p>received</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}{CALLBACK_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def received(self, timeout: float = 15) -> dict[str, str]:
        assert self.arrived.wait(timeout), "the callback received nothing"
        return self.queries[-1]


@pytest.fixture
def callback():
    running = Callback()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def tenant_admin(transactional_db, tenant):
    user = get_user_model().objects.create_user(username="ana", password=PASSWORD, is_staff=True)
    TenantMembership.objects.create(user=user, tenant=tenant, role="admin")
    return user


def register(live_server, redirect_uri: str) -> str:
    """RFC 7591 registration with the metadata ChatGPT sends; the new client's id."""
    response = httpx.post(
        f"{live_server.url}/oauth/register",
        json={
            "client_name": "ChatGPT",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["client_id"]


def authorization_url(live_server, client_id: str, redirect_uri: str, state: str):
    """The authorization URL as ChatGPT builds it (PKCE S256, state, resource = /mcp), and the
    PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "state": state,
            "scope": settings.MCP_SCOPE,
            "resource": f"{live_server.url}/mcp",
        }
    )
    return f"{live_server.url}/oauth/authorize/?{query}", verifier


def log_in_at_the_approval_page(page, url: str) -> None:
    page.goto(url)
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("heading", name="Approve a connection to the Claresia hub").wait_for()


def test_approve_in_chromium_arrives_at_the_callback_with_code_state_and_iss(
    page, live_server, tenant_admin, tenant, callback
):
    # given: a client registered as ChatGPT does, its authorization URL
    client_id = register(live_server, callback.uri)
    url, verifier = authorization_url(live_server, client_id, callback.uri, "state-approve-1")
    policies = []
    page.on(
        "response",
        lambda r: (
            policies.append(r.headers.get("content-security-policy", ""))
            if "/oauth/authorize/" in r.url and r.status == 200
            else None
        ),
    )

    # when: the tenant admin logs in there and reads the page
    log_in_at_the_approval_page(page, url)

    # then: who asks, where the code goes, the tenant, under the strict form-action
    assert page.locator("#client-name").inner_text() == "ChatGPT"
    port = urlsplit(callback.uri).port
    assert page.locator("#redirect-host").inner_text() == f"127.0.0.1:{port}"
    assert page.locator("#not-chatgpt").is_visible()
    assert page.locator("#id_tenant option:checked").inner_text() == "Dainese"
    assert "Claresia administration" in page.locator("#header").inner_text()
    assert all("form-action 'self'" in policy for policy in policies) and policies

    # when: Approve
    page.get_by_role("button", name="Approve").click()

    # then: the callback has the code, the state and the issuer (RFC 9207)
    query = callback.received()
    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == "state-approve-1"
    assert query["iss"] == live_server.url
    # and the code is a real one: it exchanges for a token with the PKCE verifier
    token = httpx.post(
        f"{live_server.url}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": callback.uri,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": f"{live_server.url}/mcp",
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    assert token.json()["access_token"]


def test_deny_in_chromium_arrives_at_the_callback_with_access_denied(
    page, live_server, tenant_admin, callback
):
    # given
    client_id = register(live_server, callback.uri)
    url, _ = authorization_url(live_server, client_id, callback.uri, "state-deny-1")
    log_in_at_the_approval_page(page, url)

    # when
    page.get_by_role("button", name="Deny").click()

    # then
    query = callback.received()
    assert query["error"] == "access_denied"
    assert query["state"] == "state-deny-1"
    assert query["iss"] == live_server.url
    assert "code" not in query


def test_the_approval_page_has_no_serious_accessibility_violation(
    page, live_server, tenant_admin, callback
):
    # given
    client_id = register(live_server, callback.uri)
    url, _ = authorization_url(live_server, client_id, callback.uri, "state-a11y")

    # when
    log_in_at_the_approval_page(page, url)

    # then
    assert serious_violations(page) == []
