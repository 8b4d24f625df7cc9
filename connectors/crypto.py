"""Connector secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (newest first).

Rotation: prepend a new key; data written under an older key still decrypts, and
`secret_rotate` (the `reencrypt_secrets` command and admin action) rewrites it under the newest.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was written under a key that FIELD_ENCRYPTION_KEYS no longer holds."""

    def __init__(self) -> None:
        super().__init__(
            "The stored key cannot be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was a key removed?): paste the Compliance API key again"
        )


@cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def secret_encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None


def secret_rotate(token: str) -> str:
    """The same secret, encrypted under the newest key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable from None


def secret_mask(last4: str) -> str:
    return f"…{last4}" if last4 else "—"
