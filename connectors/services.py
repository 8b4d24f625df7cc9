"""Connector services: connect a tenant, test the connection, rotate the stored keys, and the
one way other apps get an OpenAI client of a tenant's connector (`connector_client`).

The admin, the commands and the Command Center call these; none talks to OpenAI or the crypto
layer by itself. Outside `connectors/`, nothing imports `connectors.models` or `connectors.crypto`:
an OpenAI client comes from `connector_client`, every reason it cannot is one
`ConnectorUnavailable`; the reads (the connector, its workspace, its checks, its statuses
`ConnectorStatus` and `PublishMode`) are `connectors.selectors`.
"""

import logging
import re
import uuid
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from claresia.models import Tenant
from connectors.connection_checks import is_connected, keep_reading, run_connection_checks
from connectors.connection_checks import summary as checks_summary
from connectors.crypto import SecretUnreadable, secret_rotate
from connectors.models import Connector
from connectors.openai.client import Host, OpenAIClient, RetryPolicy
from connectors.selectors import (
    ConnectorUnavailable,
    PublishMode,
    connector_checks,
    connector_of,
    no_connector,
)

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 512


def validate_api_key(api_key: str) -> str:
    """The key as it will be stored, or ValidationError saying what is wrong (never echoing it)."""
    key = (api_key or "").strip()
    if not key:
        raise ValidationError({"api_key": "Paste the Compliance API key: it is empty."})
    if len(key) > MAX_KEY_LENGTH or not is_printable_ascii(key):
        # An HTTP header holds only ASCII: an accented letter would fail every call later.
        raise ValidationError(
            {
                "api_key": "That is not an API key: one line of printable ASCII, no spaces, "
                "as OpenAI shows it."
            }
        )
    return key


def is_printable_ascii(text: str) -> bool:
    """True when every character is printable ASCII other than the space (`!` to `~`)."""
    return all("!" <= ch <= "~" for ch in text)


def validate_workspace_id(workspace_id: str | uuid.UUID) -> uuid.UUID | None:
    """The workspace id as stored (None when blank), or ValidationError: it must be a UUID."""
    if isinstance(workspace_id, uuid.UUID):
        return workspace_id
    text = str(workspace_id).strip()
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError(
            {"workspace_id": "A ChatGPT workspace id is a UUID (8-4-4-4-12 hexadecimal digits)."}
        ) from None


APP_ID_PREFIX = "asdk_app_"  # chatgpt-admin-api.md → APP_LOG: an Apps SDK / MCP app's id
APP_ID_PATTERN = re.compile(r"^asdk_app_[A-Za-z0-9_-]{1,55}$")


def validate_app_id(app_id: str) -> str:
    """The ChatGPT app id as stored ("" when blank), or ValidationError: an Apps SDK app's id,
    `asdk_app_` then letters, digits, `_` or `-`."""
    text = (app_id or "").strip()
    if text and not APP_ID_PATTERN.match(text):
        raise ValidationError(
            {
                "app_id": (
                    f"A ChatGPT app id looks like {APP_ID_PREFIX}… (letters, digits, _ and -, at "
                    "most 64 characters), as the app's APP_LOG lines name it. Leave it blank to "
                    "let Claresia learn it from the first call to the app."
                )
            }
        )
    return text


def connector_app_id_learn(*, tenant: Tenant, app_id: str) -> bool:
    """Keep the app id the Logs Platform poll learned for the tenant's Claresia app, only when
    none is set (the admin's own wins) and it is a well-formed app id; True when stored."""
    try:
        valid = validate_app_id(app_id)
    except ValidationError:
        return False
    if not valid:
        return False
    stored = Connector.objects.filter(tenant=tenant, app_id="").update(app_id=valid)
    if stored:
        logger.info("connector of tenant %s: ChatGPT app id %s learned", tenant.slug, valid)
    return bool(stored)


@transaction.atomic
def connector_connect(
    *,
    tenant: Tenant,
    organization_id: str,
    api_key: str | None,
    publish_mode: str | None = None,
    workspace_id: str | uuid.UUID | None = None,
    app_id: str | None = None,
) -> Connector:
    """Store (or replace) the tenant's org id, ChatGPT workspace id and encrypted Compliance key.

    `api_key=None` keeps the stored key (a form left blank); `workspace_id=None` keeps the
    stored workspace id and `""` removes it; `app_id` (the ChatGPT app id) likewise. New
    credentials reset the status to *never tested*. Raises ValidationError, saving nothing, on a
    bad org id, workspace id, key or app id.
    """
    connector = Connector.objects.select_for_update().filter(tenant=tenant).first() or Connector(
        tenant=tenant
    )
    organization_id = (organization_id or "").strip()
    errors: dict[str, list[str]] = {}
    workspace = connector.workspace_id
    if workspace_id is not None:
        try:
            workspace = validate_workspace_id(workspace_id)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if app_id is not None:
        try:
            connector.app_id = validate_app_id(app_id)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    credentials_changed = (
        api_key is not None
        or organization_id != connector.organization_id
        or workspace != connector.workspace_id
    )
    connector.organization_id = organization_id
    connector.workspace_id = workspace
    if publish_mode:
        connector.publish_mode = publish_mode
    try:
        if api_key is not None:
            connector.set_api_key(validate_api_key(api_key))
        elif not connector.api_key_ciphertext:
            validate_api_key("")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        connector.full_clean(exclude=["api_key_ciphertext", "api_key_last4", "tenant"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if credentials_changed:
        connector.status = Connector.Status.NEVER_TESTED
        connector.last_error = ""
        connector.last_tested_at = None
    connector.save()
    logger.info("connector stored for tenant %s (key %s)", tenant.slug, connector.api_key_masked)
    return connector


def connector_switch_to_manual_export(*, tenant: Tenant) -> None:
    """From now on the tenant's GPTs are built by hand from the export, not by the admin API:
    what OpenAI's answer that publishing is disabled for the workspace calls for."""
    Connector.objects.filter(tenant=tenant).update(
        publish_mode=PublishMode.MANUAL_EXPORT, updated_at=timezone.now()
    )
    logger.warning("tenant %s switched to manual export: publish disabled", tenant.slug)


class Purpose(StrEnum):
    """What a client is for, which decides how long it may wait on OpenAI."""

    # A task or a command: OpenAI's retry policy (backoff, `Retry-After` up to 120 s).
    WORKER = "worker"
    # A page's read: one attempt, 10 s at most, so a page never waits on OpenAI.
    PAGE = "page"


PURPOSE_OPTIONS: dict[Purpose, dict] = {
    Purpose.WORKER: {},
    Purpose.PAGE: {"retry": RetryPolicy(max_attempts=1), "timeout": 10.0},
}


def connector_client(
    *,
    host: Host,
    tenant: Tenant | None = None,
    connector: Connector | None = None,
    purpose: Purpose = Purpose.WORKER,
    **options,
) -> OpenAIClient:
    """The OpenAI client of a tenant's connector, the one factory of them: `host` is the surface
    (`Host.PLATFORM`, the seed's modelled Platform API, which takes the organization header;
    `Host.CHATGPT_ADMIN`, the real ChatGPT admin API, paced per workspace and route), `purpose`
    its retry policy and timeout (`Purpose`); `options` go to `OpenAIClient` as they are (a
    test's transport, a bench's policy).

    Pass `connector` when it is already loaded (a poll passes its own), else `tenant`. Raises
    ConnectorUnavailable when the tenant has no connector or its key cannot be read."""
    if connector is None:
        if tenant is None:
            raise TypeError("connector_client needs a tenant or its connector")
        connector = connector_of(tenant=tenant)
        if connector is None:
            raise no_connector(tenant)
    options = {**PURPOSE_OPTIONS[Purpose(purpose)], **options}
    if Host(host) == Host.PLATFORM:
        options.setdefault("organization_id", connector.organization_id)
    return OpenAIClient(api_key=_readable_key(connector), host=host, **options)


def _readable_key(connector: Connector) -> str:
    try:
        api_key = connector.api_key
    except SecretUnreadable as exc:
        raise ConnectorUnavailable(str(exc)) from None
    if not is_printable_ascii(api_key):
        # Stored before keys were checked at save: no HTTP header can carry it.
        raise ConnectorUnavailable(
            "the stored Compliance API key is not printable ASCII, so it cannot be a key: "
            "paste the key again on the connector's page"
        )
    return api_key


def connector_test_connection(*, connector: Connector, **client_options) -> Connector:
    """Part 2's *Test connection* as a checklist (connectors/connection_checks.py): the seed's
    audit log, the Compliance Logs Platform, the GPT inventory; each line stored with its outcome.

    Connected when a telemetry source answers. Never raises for an OpenAI or key problem: the
    status, the checklist and `last_error` say what happened.
    """
    now = timezone.now()
    try:
        with (
            connector_client(connector=connector, host=Host.PLATFORM, **client_options) as platform,
            connector_client(
                connector=connector, host=Host.CHATGPT_ADMIN, **client_options
            ) as admin,
        ):
            results = run_connection_checks(
                organization_id=connector.organization_id,
                workspace_id=str(connector.workspace_id) if connector.workspace_id else None,
                platform_client=platform,
                admin_client=admin,
                now=now,
            )
        results = keep_reading(results, connector_checks(connector))
    except ConnectorUnavailable as exc:
        connector.status = Connector.Status.FAILED
        connector.last_error = exc.user_message
        connector.connection_checks = []
    else:
        connected = is_connected(results)
        connector.status = Connector.Status.CONNECTED if connected else Connector.Status.FAILED
        connector.last_error = checks_summary(results)
        connector.connection_checks = [result.as_dict() for result in results]
    if connector.status == Connector.Status.CONNECTED:
        logger.info("test connection succeeded for tenant %s", connector.tenant.slug)
    else:
        logger.warning(
            "test connection failed for tenant %s: %s", connector.tenant.slug, connector.last_error
        )
    connector.last_tested_at = now
    connector.save(
        update_fields=[
            "status",
            "last_error",
            "last_tested_at",
            "connection_checks",
            "updated_at",
        ]
    )
    return connector


def connectors_reencrypt(*, queryset: QuerySet[Connector] | None = None) -> int:
    """Rewrite stored keys (all, or `queryset`'s) under the newest FIELD_ENCRYPTION_KEYS key.

    Returns the count. Raises SecretUnreadable, changing nothing, if any key cannot be read.
    """
    queryset = Connector.objects.all() if queryset is None else queryset
    with transaction.atomic():
        # select_related(None): the admin's changelist joins the tenant, which .only() defers.
        rows = queryset.select_related(None).select_for_update()
        connectors = list(rows.only("pk", "api_key_ciphertext"))
        for connector in connectors:
            connector.api_key_ciphertext = secret_rotate(connector.api_key_ciphertext)
        Connector.objects.bulk_update(connectors, ["api_key_ciphertext"])
    logger.info("re-encrypted %d connector key(s) under the newest key", len(connectors))
    return len(connectors)
