"""A Logs Platform download is bounded and safe (respx): the 307 is followed only over HTTPS to
a public address, a gzip that inflates hugely is refused after the size bound, and a body that
streams for ever ends at the time bound."""

import gzip
import itertools
import zlib

import httpx
import pytest
import respx

from connectors.openai import chatgpt_admin
from connectors.openai import client as openai_client
from connectors.openai.client import Host, OpenAIClient, RetryPolicy
from connectors.openai.errors import LogFileRefusedError, LogFileTooLargeError

BASE = "https://chatgpt.test/v1"
ORG = chatgpt_admin.Principal.organization("org-unit")
FILE = f"{BASE}/compliance/organizations/org-unit/logs/file-1"
SIGNED = "https://files.test/signed/abc"
PUBLIC = "93.184.215.14"
LINE = b'{"event_id": "e1"}\n'


@pytest.fixture
def client():
    with OpenAIClient(
        api_key="sk-admin-unit",
        host=Host.CHATGPT_ADMIN,
        base_url=BASE,
        retry=RetryPolicy(max_attempts=1),
        sleep=lambda seconds: None,
    ) as client:
        yield client


@pytest.fixture
def resolves(monkeypatch):
    """What files.test resolves to (a public address unless a test says otherwise)."""
    answer = {PUBLIC}
    monkeypatch.setattr(openai_client, "_resolve", lambda host, port: answer)
    return answer


def redirect_to(location: str) -> None:
    respx.get(FILE).mock(return_value=httpx.Response(307, headers={"Location": location}))


def download(client, **bounds) -> bytes:
    with chatgpt_admin.log_file_open(client, ORG, "file-1", **bounds) as chunks:
        return b"".join(chunks)


@respx.mock
@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://files.test/signed/abc", "not HTTPS"),
        ("https://127.0.0.1/signed/abc", "not a public address"),
        ("https://169.254.169.254/latest/meta-data/", "not a public address"),
        ("https://[::1]/signed/abc", "not a public address"),
        ("https://[::ffff:10.0.0.7]/signed/abc", "not a public address"),
        ("https://localhost/signed/abc", "not a public address"),
    ],
)
def test_a_307_to_plain_http_or_a_private_address_is_refused_unfollowed(client, location, reason):
    # given
    redirect_to(location)
    followed = respx.get(url__regex=r"^https?://(?!chatgpt\.test).*").mock(
        return_value=httpx.Response(200, content=LINE)
    )

    # when / then
    with pytest.raises(LogFileRefusedError, match=reason):
        download(client)
    assert not followed.called


@respx.mock
def test_a_name_that_resolves_to_a_private_address_is_refused(client, resolves):
    # given
    resolves.clear()
    resolves.update({PUBLIC, "10.0.0.5"})
    redirect_to(SIGNED)
    followed = respx.get(SIGNED).mock(return_value=httpx.Response(200, content=LINE))

    # when / then
    with pytest.raises(LogFileRefusedError, match=r"10\.0\.0\.5"):
        download(client)
    assert not followed.called


@respx.mock
def test_the_sandbox_setting_allows_plain_http_on_loopback(client, settings):
    # given
    settings.LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP = True
    redirect_to("http://127.0.0.1:8765/_signed/logs/abc")
    respx.get("http://127.0.0.1:8765/_signed/logs/abc").mock(
        return_value=httpx.Response(200, content=LINE)
    )

    # when / then
    assert download(client) == LINE


def test_the_setting_is_off_by_default():
    from claresia import settings as production

    assert production.LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP is False


@respx.mock
def test_a_gzip_body_is_decoded_member_after_member(client, resolves):
    # given: a gzip of two members, as a storage host may concatenate them
    redirect_to(SIGNED)
    body = gzip.compress(LINE) + gzip.compress(LINE * 2)
    respx.get(SIGNED).mock(
        return_value=httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"})
    )

    # when / then
    assert download(client) == LINE * 3


def _gzip_bomb(decoded_mb: int) -> bytes:
    """~decoded_mb MB of zeros, gzip-compressed a thousandfold (the attack: 250 KB → 200 MB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(decoded_mb)) + packer.flush()


@respx.mock
def test_a_gzip_that_inflates_hugely_is_refused_after_the_size_bound(client, resolves, settings):
    # given: 200 MB of zeros in ~200 KB, and the production bound
    bomb = _gzip_bomb(200)
    assert len(bomb) < 300 * 1024
    redirect_to(SIGNED)
    respx.get(SIGNED).mock(
        return_value=httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})
    )
    decoded = 0

    # when
    with (
        pytest.raises(LogFileTooLargeError, match="LOGS_FILE_MAX_BYTES"),
        chatgpt_admin.log_file_open(client, ORG, "file-1") as chunks,
    ):
        for chunk in chunks:
            decoded += len(chunk)
            assert len(chunk) <= openai_client.DECODE_STEP

    # then: stopped at the bound, not at 200 MB
    assert decoded <= settings.LOGS_FILE_MAX_BYTES


@respx.mock
def test_a_plain_body_past_the_size_bound_is_refused(client, resolves):
    # given
    redirect_to(SIGNED)
    respx.get(SIGNED).mock(return_value=httpx.Response(200, content=LINE * 100))

    # when / then
    with pytest.raises(LogFileTooLargeError):
        download(client, max_bytes=len(LINE) * 10)


@respx.mock
def test_a_body_that_streams_for_ever_ends_at_the_time_bound(client, resolves):
    # given: a body that never ends (a bounded generator, so that a broken bound fails the
    # test instead of hanging it)
    served = itertools.count()

    def endless():
        for _ in range(10_000_000):
            next(served)
            yield LINE

    redirect_to(SIGNED)
    respx.get(SIGNED).mock(return_value=httpx.Response(200, content=endless()))

    # when / then
    with pytest.raises(LogFileRefusedError, match=r"took longer than 0\.2 s"):
        download(client, max_seconds=0.2, max_bytes=10**12)
    assert next(served) < 10_000_000


@respx.mock
def test_an_encoding_not_asked_for_is_refused(client, resolves):
    # given
    redirect_to(SIGNED)
    respx.get(SIGNED).mock(
        return_value=httpx.Response(200, content=b"??", headers={"Content-Encoding": "br"})
    )

    # when / then
    with pytest.raises(LogFileRefusedError, match="Content-Encoding 'br'"):
        download(client)


class _Stream:
    def __init__(self, address):
        self.address = address

    def get_extra_info(self, name):
        return (self.address, 443) if name == "server_addr" else None


@pytest.mark.parametrize(("address", "refused"), [("10.0.0.5", True), (PUBLIC, False)])
def test_the_address_actually_connected_to_is_checked_too(address, refused, monkeypatch):
    # given: a name that resolved to a public address, then connected elsewhere (DNS rebinding)
    monkeypatch.setattr(openai_client, "_proxied", lambda: False)
    response = httpx.Response(200, extensions={"network_stream": _Stream(address)})

    # when
    reason = openai_client._peer_refusal(response)

    # then
    assert bool(reason) is refused


@respx.mock
@pytest.mark.parametrize(
    ("location", "followed_url"),
    [
        # A signed URL is followed as given, its query untouched (the URL httpx resolved).
        (
            f"{SIGNED}?sig=a%2Fb%3D&se=2026-12-03T16%3A10%3A00Z",
            f"{SIGNED}?sig=a%2Fb%3D&se=2026-12-03T16%3A10%3A00Z",
        ),
        # A relative Location is resolved against the API's URL, as a browser would.
        ("/signed/rel?x=1", "https://chatgpt.test/signed/rel?x=1"),
    ],
)
def test_the_307s_location_is_followed_as_resolved_and_log_file_location_names_it(
    client, resolves, location, followed_url
):
    # given
    redirect_to(location)
    followed = respx.get(url__regex=r"^https://(files|chatgpt)\.test/signed/").mock(
        return_value=httpx.Response(200, content=LINE)
    )

    # when
    body = download(client)
    named = client.log_file_location(
        chatgpt_admin.log_file_path(ORG, "file-1"), route=ORG.route("logs/{id}")
    )

    # then
    assert body == LINE
    assert str(followed.calls.last.request.url) == followed_url
    assert named == followed_url
    assert "authorization" not in followed.calls.last.request.headers
