"""Drift detection: read each published GPT back (`GET /organization/gpts/{id}`) and
compare it with the bundle of its last successful publication (`Publication.published_bundle`,
`file_ids`, `published_sha256`). A GPT deleted in ChatGPT is *missing*; one whose instructions,
tools, actions, files, metadata or sharing differ has *drifted*. The result is stored on the
Publication; a republish (skills_publish with force) overwrites the GPT and clears it.

Sharing: the modelled GPT object (`openai-enterprise-api.md`) has no sharing field and OpenAI
publishes no GET for it; the sandbox's GPT object carries `sharing` ({visibility, group_ids}), as
the admin API's GPT object is expected to. Sharing is compared when the object carries it;
when it does not, the check says so in `drift_error` instead of guessing.
"""

import logging
import time
from dataclasses import dataclass, field

from django.utils import timezone

from claresia.models import Tenant
from claresia.time_limits import SoftTimeLimitExceeded, time_limit_reason
from connectors.openai import modelled
from connectors.openai.client import Host
from connectors.openai.errors import AuthenticationError, NotFoundError, OpenAIError
from connectors.services import ConnectorUnavailable, connector_client
from skills.models import Publication

logger = logging.getLogger(__name__)

TARGET = Publication.Target.OPENAI_GPT
# GPTConfig fields a publish sets and the snapshot keeps
# (skills.targets.custom_gpt.publish.CONFIG_FIELDS).
COMPARED_FIELDS = (
    "name",
    "description",
    "instructions",
    "conversation_starters",
    "tools",
    "actions",
)
SHARING_NOT_REPORTED = "sharing not reported by the API for this GPT: not compared"


class DriftError(Exception):
    """The tenant cannot be checked at all (no connector, unreadable key): nothing was written."""


@dataclass(frozen=True)
class DriftOutcome:
    skill_id: str
    status: Publication.DriftStatus
    differences: tuple = ()
    detail: str = ""

    def line(self) -> str:
        label = self.status.label
        parts = [f"{d['field']}: {d['detail']}" for d in self.differences]
        if self.detail:
            parts.append(self.detail)
        return f"{self.skill_id}: {label}" + (f" ({'; '.join(parts)})" if parts else "")


@dataclass
class DriftReport:
    outcomes: list[DriftOutcome] = field(default_factory=list)

    @property
    def drifted(self) -> list[DriftOutcome]:
        drifted = (Publication.DriftStatus.DRIFTED, Publication.DriftStatus.MISSING)
        return [o for o in self.outcomes if o.status in drifted]


def _names(tools: list) -> list[str]:
    return sorted(
        str(((tool or {}).get("function") or {}).get("name") or "?")
        for tool in tools
        if isinstance(tool, dict)
    )


def _config_difference(key: str, published, live) -> str:
    if key == "instructions":
        return f"edited in ChatGPT ({len(live or '')} characters, {len(published or '')} published)"
    if key == "tools":
        return f"function tools are {_names(live or []) or 'none'}, published {_names(published)}"
    if key == "actions":
        return "the emit_hub_record action (schema, server or auth) was changed or removed"
    return "changed in ChatGPT"


def gpt_differences(
    *, snapshot: dict, file_ids: dict, published_sha256: str, gpt: dict
) -> tuple[list[dict], str]:
    """What differs between the published snapshot and the live GPT object, and a note about
    what could not be compared. Pure."""
    differences = []
    config = snapshot.get("config") or {}
    for key in COMPARED_FIELDS:
        if key in config and gpt.get(key) != config[key]:
            differences.append(
                {"field": key, "detail": _config_difference(key, config[key], gpt.get(key))}
            )
    expected = {file_ids.get(sha, f"?{path}") for path, sha in snapshot.get("knowledge") or []}
    live = set(gpt.get("file_ids") or [])
    if expected != live:
        differences.append(
            {
                "field": "files",
                "detail": f"{len(expected - live)} published file(s) removed, "
                f"{len(live - expected)} other file(s) added",
            }
        )
    metadata = gpt.get("metadata") or {}
    if metadata.get("claresia_bundle_sha256") != published_sha256:
        differences.append({"field": "metadata", "detail": "the Claresia bundle hash was changed"})
    note = ""
    sharing = gpt.get("sharing")
    if isinstance(sharing, dict):
        groups = sorted(snapshot.get("group_ids") or [])
        published = {"visibility": "groups" if groups else "private", "group_ids": groups}
        current = {
            "visibility": sharing.get("visibility"),
            "group_ids": sorted(sharing.get("group_ids") or []),
        }
        if current != published:
            differences.append(
                {
                    "field": "sharing",
                    "detail": f"{current['visibility']} {', '.join(current['group_ids'])}".strip()
                    + f"; published {published['visibility']} "
                    + ", ".join(published["group_ids"]),
                }
            )
    else:
        note = SHARING_NOT_REPORTED
    return differences, note.strip()


def _publications(tenant: Tenant, skill_ids: list[str] | None) -> list[Publication]:
    queryset = (
        Publication.objects.filter(skill__tenant=tenant, target=TARGET)
        .exclude(gpt_id="")
        .exclude(published_sha256="")
        .select_related("skill")
        .order_by("skill__skill_id")
    )
    if skill_ids:
        queryset = queryset.filter(skill__skill_id__in=skill_ids)
    return list(queryset)


def _save(publication: Publication, outcome: DriftOutcome, now) -> None:
    publication.drift_status = outcome.status
    publication.drift = list(outcome.differences)
    publication.drift_error = outcome.detail
    publication.drift_checked_at = now
    publication.save(update_fields=["drift_status", "drift", "drift_error", "drift_checked_at"])


def skills_drift_check(
    *, tenant: Tenant, skill_ids: list[str] | None = None, **client_options
) -> DriftReport:
    """Read back every published GPT of the tenant (or of `skill_ids`) and store its drift.
    Read-only towards OpenAI; safe to run twice."""
    publications = _publications(tenant, skill_ids)
    report = DriftReport()
    if not publications:
        return report
    try:
        client = connector_client(tenant=tenant, host=Host.PLATFORM, **client_options)
    except ConnectorUnavailable as exc:
        raise DriftError(exc.user_message) from None
    stop = ""
    started = time.monotonic()
    with client:
        for publication in publications:
            skill_id = publication.skill.skill_id
            if stop:
                outcome = DriftOutcome(skill_id, Publication.DriftStatus.ERROR, detail=stop)
            else:
                try:
                    gpt = modelled.gpt_get(client, publication.gpt_id)
                except SoftTimeLimitExceeded:
                    # The task's time limit: this GPT and the ones after it say why.
                    stop = time_limit_reason(started)
                    logger.warning("drift check of tenant %s %s", tenant.slug, stop)
                    outcome = DriftOutcome(skill_id, Publication.DriftStatus.ERROR, detail=stop)
                except NotFoundError:
                    outcome = DriftOutcome(
                        skill_id,
                        Publication.DriftStatus.MISSING,
                        ({"field": "gpt", "detail": f"{publication.gpt_id} was deleted"},),
                    )
                except OpenAIError as exc:
                    if isinstance(exc, AuthenticationError):
                        stop = exc.user_message  # every other GPT would get the same answer
                    outcome = DriftOutcome(
                        skill_id, Publication.DriftStatus.ERROR, detail=exc.user_message
                    )
                else:
                    differences, note = gpt_differences(
                        snapshot=publication.published_bundle or {},
                        file_ids=publication.file_ids or {},
                        published_sha256=publication.published_sha256,
                        gpt=gpt,
                    )
                    status = (
                        Publication.DriftStatus.DRIFTED
                        if differences
                        else Publication.DriftStatus.IN_SYNC
                    )
                    outcome = DriftOutcome(skill_id, status, tuple(differences), note)
            _save(publication, outcome, timezone.now())
            report.outcomes.append(outcome)
    if report.drifted:
        logger.info("tenant %s: %d GPT(s) drifted", tenant.slug, len(report.drifted))
    return report


def drift_tenant_ids() -> list[int]:
    """The tenants with a published GPT: those the daily drift check reads back."""
    return sorted(
        set(
            Publication.objects.filter(target=TARGET)
            .exclude(gpt_id="")
            .exclude(published_sha256="")
            .values_list("skill__tenant_id", flat=True)
        )
    )


def drift_check_tenant(*, tenant_id: int) -> DriftReport:
    """The task's body: check one tenant by id; a tenant that cannot be checked is logged."""
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        return skills_drift_check(tenant=tenant)
    except DriftError as exc:
        logger.warning("drift check of tenant %s skipped: %s", tenant.slug, exc)
        return DriftReport()
