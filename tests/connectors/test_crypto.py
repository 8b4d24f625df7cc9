"""The Compliance key at rest: MultiFernet, rotation by prepending a key, re-encryption."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from connectors.crypto import SecretUnreadable, secret_decrypt
from connectors.models import Connector
from tests.factories import COMPLIANCE_KEY


def test_the_key_is_stored_encrypted_and_reads_back(connector):
    # when
    stored = Connector.objects.get(pk=connector.pk)

    # then
    assert COMPLIANCE_KEY not in stored.api_key_ciphertext
    assert stored.api_key == COMPLIANCE_KEY
    assert stored.api_key_masked == "…7f3a"


def test_a_key_written_under_an_old_encryption_key_reads_after_a_new_one_is_prepended(
    connector, settings
):
    # given
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)

    # when
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old_keys]

    # then
    assert Connector.objects.get(pk=connector.pk).api_key == COMPLIANCE_KEY


def test_reencrypt_moves_every_key_to_the_newest_encryption_key(connector, settings):
    # given
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    newest = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [newest, *old_keys]

    # when
    call_command("reencrypt_secrets")

    # then: the newest key alone now reads it
    settings.FIELD_ENCRYPTION_KEYS = [newest]
    stored = Connector.objects.get(pk=connector.pk)
    assert secret_decrypt(stored.api_key_ciphertext) == COMPLIANCE_KEY


def test_reencrypt_changes_nothing_when_a_key_cannot_be_read(connector, settings):
    # given
    before = Connector.objects.get(pk=connector.pk).api_key_ciphertext
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # when
    with pytest.raises(Exception, match="cannot be decrypted"):
        call_command("reencrypt_secrets")

    # then
    assert Connector.objects.get(pk=connector.pk).api_key_ciphertext == before


def test_an_unreadable_key_is_a_clear_error(connector, settings):
    # given
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # when / then
    with pytest.raises(SecretUnreadable):
        Connector.objects.get(pk=connector.pk).api_key  # noqa: B018
