"""The footer's "View record" link for the end user, who never gets a Claresia login.

hub-records-api.md opens the record page to the tenant's staff. The person a footer is shown to is
an end user in ChatGPT, so the footer's URL carries `?link=<expires>.<signature>`: an HMAC-SHA256
(Django's `salted_hmac`, keyed by `SECRET_KEY`) of the record id and the expiry, which opens that
one record, read only, until it expires (`HUB_RECORD_LINK_DAYS` after the record was made) and
while the tenant keeps its `record_links` on. The link is a function of the record, so an
idempotent repeat of the same call answers the same footer.
"""

import hashlib
import hmac
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes

SALT = "claresia.hub.record-link"
MAX_TOKEN_LENGTH = 100


class LinkVerdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    TURNED_OFF = "turned_off"
    WRONG = "wrong"


_keyed: tuple[str, "hmac.HMAC"] | None = None  # (SECRET_KEY, an HMAC keyed from it, unfed)


def _hmac() -> "hmac.HMAC":
    """A fresh HMAC as `salted_hmac(SALT, …, algorithm="sha256")` starts it: keyed by
    sha256(SALT + SECRET_KEY). Deriving that key (and HMAC's padded key blocks) is most of a
    signature's cost, so it is done once per SECRET_KEY and each signature copies the result."""
    global _keyed
    secret = settings.SECRET_KEY
    if _keyed is None or _keyed[0] != secret:
        key = hashlib.sha256(force_bytes(SALT) + force_bytes(secret)).digest()
        _keyed = (secret, hmac.new(key, digestmod=hashlib.sha256))
    return _keyed[1].copy()


def _signature(record_id: str, expires: int) -> str:
    """salted_hmac(SALT, f"{record_id}:{expires}", algorithm="sha256").hexdigest()"""
    signer = _hmac()
    signer.update(f"{record_id}:{expires}".encode())
    return signer.hexdigest()


def record_link_expiry(created_at: datetime) -> int:
    """Unix seconds after which the record's link no longer opens it."""
    return int((created_at + timedelta(days=settings.HUB_RECORD_LINK_DAYS)).timestamp())


def record_link_token(*, record_id: str, created_at: datetime) -> str:
    expires = record_link_expiry(created_at)
    return f"{expires}.{_signature(record_id, expires)}"


def record_link_check(
    *, token: str, record_id: str, links_on: bool, now: datetime
) -> tuple[LinkVerdict, datetime | None]:
    """Whether `token` opens `record_id` now, and the link's expiry when the token is genuine."""
    expires_text, _, signature = token[:MAX_TOKEN_LENGTH].partition(".")
    if not expires_text.isdigit() or not constant_time_compare(
        signature, _signature(record_id, int(expires_text))
    ):
        return LinkVerdict.WRONG, None
    expires = datetime.fromtimestamp(int(expires_text), tz=now.tzinfo)
    if not links_on:
        return LinkVerdict.TURNED_OFF, expires
    if now.timestamp() > int(expires_text):
        return LinkVerdict.EXPIRED, expires
    return LinkVerdict.VALID, expires
