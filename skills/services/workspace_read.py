"""The tenant's ChatGPT workspace as last read, stored for the pages: each skill's GPT against the
GPT inventory (`workspace_drift`) and where the plugin stands (`plugin_arrival`), read through
the real Compliance API (`shared/contracts/chatgpt-admin-api.md` → GPT inventory, Plugins).

A page never calls OpenAI and never writes (ARCHITECTURE.md → command_center): reading the
inventory can take minutes on a `Retry-After`, and building every skill's bundle to compare is
work a page view should not repeat. So a queued task reads, this module stores what it found
with the time, and the pages show the stored read and when it was made. The task runs hourly
(CELERY_BEAT_SCHEDULE) and on the pages' *Check now*; the 60 s telemetry poll does not run it,
because the comparison builds every skill's bundle and the inventory changes when a person edits
a GPT or syncs the plugin, not by the minute.
"""

import dataclasses
import logging
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from claresia.models import Tenant
from connectors.openai.errors import OpenAIError
from connectors.selectors import connector_workspace_id, tenants_with_connector
from connectors.services import ConnectorUnavailable
from skills.models import WorkspaceRead
from skills.services.bundles import tenant_context
from skills.targets.custom_gpt.workspace_drift import WorkspaceSkillLine, skills_workspace_check
from skills.targets.plugin.arrival import ArrivalStatus, PluginArrival, plugin_arrival_check
from skills.targets.plugin.build import plugin_name

logger = logging.getLogger(__name__)


def stored(value) -> dict:
    """A result dataclass as JSON: times as ISO 8601, enums as their values, tuples as lists."""

    def plain(item):
        if isinstance(item, datetime):
            return item.isoformat()
        if isinstance(item, Enum):
            return item.value
        if isinstance(item, list | tuple):
            return [plain(x) for x in item]
        return item

    return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}


def _revived_value(kind, raw):
    """`raw` read back as the field's declared type (datetime, enum, tuple; `X | None`)."""
    if raw is None:
        return None
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    for option in options:
        origin = typing.get_origin(option) or option
        if origin is datetime and isinstance(raw, str):
            return parse_datetime(raw)
        if isinstance(origin, type) and issubclass(origin, Enum):
            return origin(raw)
        if origin is tuple and isinstance(raw, list):
            return tuple(raw)
    return raw


def revived(cls, data: dict):
    """A result dataclass from `stored`'s JSON. A key the class no longer has is dropped and a
    field the row does not have takes its default, so a row written before a field was added or
    removed still reads."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _revived_value(hints[k], v) for k, v in data.items() if k in known})


def workspace_read_refresh(*, tenant_id: int, now: datetime | None = None) -> WorkspaceRead | None:
    """Read the tenant's workspace (GPT inventory and plugin) and store what was found; a
    refusal is stored as the page's message. Safe to run twice: the last read wins. None when
    the tenant is gone or has no workspace id (there is nothing to read)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or connector_workspace_id(tenant=tenant) is None:
        return None
    try:
        lines, error = [stored(line) for line in skills_workspace_check(tenant=tenant)], ""
    except (ConnectorUnavailable, OpenAIError) as exc:
        lines, error = [], exc.user_message
    arrival = plugin_arrival_check(tenant=tenant)
    read_at = now or timezone.now()
    read, _ = WorkspaceRead.objects.update_or_create(
        tenant=tenant,
        defaults={
            "gpt_lines": lines,
            "gpts_error": error,
            "gpts_read_at": read_at,
            "plugin_arrival": stored(arrival),
            "plugin_read_at": read_at,
        },
    )
    if error:
        logger.info("workspace read of tenant %s: %s", tenant.slug, error)
    return read


def workspace_read_tenant_ids() -> list[int]:
    """The tenants whose connector names a ChatGPT workspace: those the hourly read covers."""
    return sorted(
        tenant.pk
        for tenant in tenants_with_connector()
        if connector_workspace_id(tenant=tenant) is not None
    )


@dataclass(frozen=True)
class StoredWorkspace:
    """The last read, as the pages show it. `lines` is None when nothing was read yet."""

    lines: list[WorkspaceSkillLine] | None
    error: str
    read_at: datetime | None
    arrival: PluginArrival | None
    arrival_read_at: datetime | None


def workspace_read_of(*, tenant: Tenant) -> StoredWorkspace | None:
    """What the pages show of the workspace: None without a workspace id (nothing to show);
    otherwise the last read, which may be none yet. Reads rows only."""
    if connector_workspace_id(tenant=tenant) is None:
        return None
    read = WorkspaceRead.objects.filter(tenant=tenant).first()
    if read is None or read.gpts_read_at is None:
        return StoredWorkspace(None, "", None, None, None)
    return StoredWorkspace(
        lines=None if read.gpts_error else [revived(WorkspaceSkillLine, x) for x in read.gpt_lines],
        error=read.gpts_error,
        read_at=read.gpts_read_at,
        arrival=revived(PluginArrival, read.plugin_arrival) if read.plugin_arrival else None,
        arrival_read_at=read.plugin_read_at,
    )


def plugin_arrival_stored(*, tenant: Tenant) -> PluginArrival | None:
    """The plugin page's "In the ChatGPT workspace": NO_WORKSPACE without a workspace id (known
    without asking), the stored arrival otherwise, None when it was never read."""
    if connector_workspace_id(tenant=tenant) is None:
        return PluginArrival(ArrivalStatus.NO_WORKSPACE, plugin_name(tenant_context(tenant)))
    read = workspace_read_of(tenant=tenant)
    return read.arrival if read else None
