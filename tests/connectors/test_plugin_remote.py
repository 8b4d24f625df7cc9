"""The plugin marketplace's git remote: an HTTPS URL and a token stored encrypted, shown masked,
read from a file by `configure_plugin_remote`, rotated with the other secrets."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from connectors.models import PluginRemote
from connectors.plugin_remote import (
    plugin_remote_configure,
    plugin_remote_credentials,
    plugin_remote_of,
)
from connectors.services import ConnectorUnavailable

TOKEN = "ghp_remote-token-abcd"


def test_the_token_is_stored_encrypted_and_shown_masked(tenant):
    # when a remote is configured
    info = plugin_remote_configure(
        tenant=tenant, url="https://github.com/acme/plugins.git", token=TOKEN
    )
    # then only the mask is shown, the row holds ciphertext, the publish gets the token
    assert info.token_masked == "…abcd"
    row = PluginRemote.objects.get(tenant=tenant)
    assert TOKEN not in row.token_ciphertext
    assert plugin_remote_credentials(tenant=tenant).token == TOKEN
    assert TOKEN not in repr(plugin_remote_credentials(tenant=tenant))


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:acme/plugins.git",
        "ssh://github.com/acme/plugins.git",
        "http://github.com/acme/plugins.git",
        "https://user:secret@github.com/acme/plugins.git",
        "https://github.com/acme/plugins.git?x=1",
        "",
    ],
)
def test_only_https_urls_without_credentials_are_accepted(tenant, url):
    with pytest.raises(ValidationError) as error:
        plugin_remote_configure(tenant=tenant, url=url, token=TOKEN)
    assert "url" in error.value.message_dict
    assert not PluginRemote.objects.exists()


@pytest.mark.parametrize("token", ["x", "ghp_short123"])
def test_a_short_token_is_refused_saying_how_long_a_token_is(tenant, token):
    # when
    with pytest.raises(ValidationError) as error:
        plugin_remote_configure(tenant=tenant, url="https://example.com/a.git", token=token)

    # then: a clear reason, nothing stored, the token nowhere in it
    (message,) = error.value.message_dict["token"]
    assert f"has {len(token)} characters" in message and "at least 16" in message
    assert token not in message.replace(f"{len(token)}", "")
    assert not PluginRemote.objects.exists()


def test_a_token_stored_before_the_minimum_is_never_shown_whole(tenant):
    # given a short token stored directly (as before the minimum existed)
    remote = PluginRemote(tenant=tenant, url="https://example.com/a.git")
    remote.set_token("x")
    remote.save()

    # when
    info = plugin_remote_of(tenant=tenant)

    # then
    assert "x" not in info.token_masked and info.has_token


def test_plain_http_is_accepted_on_loopback_only(tenant):
    info = plugin_remote_configure(tenant=tenant, url="http://127.0.0.1:8080/r.git", token=None)
    assert info.url == "http://127.0.0.1:8080/r.git" and not info.has_token


def test_a_new_url_keeps_the_stored_token(tenant):
    plugin_remote_configure(tenant=tenant, url="https://example.com/a.git", token=TOKEN)
    plugin_remote_configure(tenant=tenant, url="https://example.com/b.git", token=None)
    assert plugin_remote_credentials(tenant=tenant).token == TOKEN
    assert plugin_remote_of(tenant=tenant).url == "https://example.com/b.git"


def test_an_unreadable_token_is_a_clear_reason(tenant, settings):
    plugin_remote_configure(tenant=tenant, url="https://example.com/a.git", token=TOKEN)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ConnectorUnavailable, match="configure the token again"):
        plugin_remote_credentials(tenant=tenant)


def test_configure_plugin_remote_reads_the_token_from_a_file(tenant, tmp_path):
    # given a token file
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    out = io.StringIO()
    # when the command runs
    call_command(
        "configure_plugin_remote",
        "--tenant",
        "dainese",
        "--url",
        "https://github.com/acme/plugins.git",
        "--token-file",
        str(token_file),
        stdout=out,
    )
    # then it says what is stored, masked
    assert "…abcd" in out.getvalue() and TOKEN not in out.getvalue()
    assert plugin_remote_credentials(tenant=tenant).token == TOKEN


def test_configure_plugin_remote_refuses_a_bad_url_in_one_line(tenant):
    with pytest.raises(CommandError) as error:
        call_command("configure_plugin_remote", "--tenant", "dainese", "--url", "ssh://x/y.git")
    assert "HTTPS" in str(error.value) and "\n" not in str(error.value)


def test_reencrypt_secrets_rotates_the_remote_tokens_too(tenant, settings):
    # given a token stored under the old key
    plugin_remote_configure(tenant=tenant, url="https://example.com/a.git", token=TOKEN)
    old = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    # when the secrets are re-encrypted and the old key dropped
    out = io.StringIO()
    call_command("reencrypt_secrets", stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    # then the token still reads
    assert "1 plugin remote token(s)" in out.getvalue()
    assert plugin_remote_credentials(tenant=tenant).token == TOKEN
