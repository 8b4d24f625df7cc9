"""Connector reads: what other apps may know of a tenant's connector without touching its model
or its stored key (`connectors/services.py` holds the writes and the client factory).

Each takes the tenant, and `connector` when the caller has already loaded the tenant's (the
poll loads it once and passes it on); without it the connector is looked up.
"""

from django.db.models import QuerySet

from claresia.models import Tenant
from connectors.connection_checks import (
    Banner,
    Check,
    CheckResult,
    Outcome,
    banner,
    beyond_checklist,
)
from connectors.models import Connector
from connectors.openai.chatgpt_admin import Principal

ConnectorStatus = Connector.Status
PublishMode = Connector.PublishMode


class ConnectorUnavailable(Exception):
    """The tenant's connector cannot give an OpenAI client: there is none, or its stored key
    cannot be read. `user_message` says which and what to do, for any page or command line."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def no_connector(tenant: Tenant) -> ConnectorUnavailable:
    return ConnectorUnavailable(
        f"tenant {tenant.slug} has no ChatGPT Enterprise connector: connect it first"
    )


def connector_of(*, tenant: Tenant) -> Connector | None:
    """The tenant's connector, or None before it is connected."""
    return Connector.objects.filter(tenant=tenant).first()


def _loaded(tenant: Tenant, connector: Connector | None) -> Connector | None:
    return connector if connector is not None else connector_of(tenant=tenant)


def tenants_with_connector() -> QuerySet[Tenant]:
    """The tenants that have a connector, whatever its last Test connection said."""
    return Tenant.objects.filter(connector__isnull=False)


def connector_publish_mode(*, tenant: Tenant) -> PublishMode:
    """How the tenant's skills reach ChatGPT. Raises ConnectorUnavailable without a connector."""
    mode = Connector.objects.filter(tenant=tenant).values_list("publish_mode", flat=True).first()
    if mode is None:
        raise no_connector(tenant)
    return PublishMode(mode)


def connector_app_id(*, tenant: Tenant, connector: Connector | None = None) -> str:
    """The tenant's ChatGPT app id (`asdk_app_…`), or "" when not known yet."""
    connector = _loaded(tenant, connector)
    return connector.app_id if connector else ""


def connector_principal_ids(
    *, tenant: Tenant, connector: Connector | None = None
) -> frozenset[str]:
    """The tenant's own Compliance principals (its workspace id and organization id), lower-cased:
    the `principal.id` a Logs Platform line of this tenant may carry."""
    connector = _loaded(tenant, connector)
    if connector is None:
        return frozenset()
    ids = {connector.organization_id}
    if connector.workspace_id:
        ids.add(str(connector.workspace_id))
    return frozenset(i.lower() for i in ids if i)


def connector_workspace_id(*, tenant: Tenant, connector: Connector | None = None) -> str | None:
    """The tenant's ChatGPT workspace id (a UUID as text), or None."""
    connector = _loaded(tenant, connector)
    return str(connector.workspace_id) if connector and connector.workspace_id else None


def connector_checks(connector: Connector | None) -> list[CheckResult]:
    """The connector's last Test connection checklist, one CheckResult per line."""
    if connector is None:
        return []
    return [CheckResult.from_dict(item) for item in connector.connection_checks or []]


def connector_banner(connector: Connector | None) -> Banner:
    """Test connection's banner for the connector's last checklist (connection_checks.banner)."""
    return banner(connector_checks(connector))


def connector_test_message(connector: Connector | None) -> str:
    """What the last Test connection said beyond its checklist: the whole message when there is
    no checklist (OpenAI could not be asked), else only what no line of it says."""
    if connector is None:
        return ""
    checks = connector_checks(connector)
    return beyond_checklist(checks) if checks else connector.last_error


def connector_logs_principal(
    *, tenant: Tenant, connector: Connector | None = None
) -> Principal | None:
    """Whom to read the Compliance Logs Platform as for this tenant: the workspace, else the
    organization, whichever passed its last check; None when neither did (or never tested)."""
    checks = {r.check: r for r in connector_checks(_loaded(tenant, connector)) if r.readable}
    if Check.LOGS_WORKSPACE in checks:
        return Principal.workspace(checks[Check.LOGS_WORKSPACE].principal)
    if Check.LOGS_ORGANIZATION in checks:
        return Principal.organization(checks[Check.LOGS_ORGANIZATION].principal)
    return None


def connector_audit_log_refused(*, tenant: Tenant, connector: Connector | None = None) -> bool:
    """True when the last Test connection's seed audit-log line was refused (not merely
    unreachable)."""
    return any(
        r.check == Check.AUDIT_LOG and r.outcome == Outcome.FAILED and not r.transient
        for r in connector_checks(_loaded(tenant, connector))
    )
