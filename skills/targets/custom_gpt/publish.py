"""The automated publish path (seed Part 3): plan, then create-or-update each skill's GPT by
name, upload changed knowledge files, share it with the archetype groups, and record a
Publication per skill and target.

Concurrency: one run publishes its skills from a bounded thread pool
(`SKILLS_PUBLISH_CONCURRENCY`) sharing one OpenAI client. The bound is per organization, which is
what OpenAI's rate limit is per, and it holds however many Celery workers there are; a chord of
per-skill tasks would need a result backend and could not bound calls to one org. Workers only
talk HTTP; the calling thread writes every row, so progress is saved as each skill finishes.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from claresia.models import Tenant
from claresia.time_limits import SoftTimeLimitExceeded, time_limit_reason
from connectors.openai import modelled
from connectors.openai.client import Host, OpenAIClient
from connectors.openai.errors import (
    PUBLISH_DISABLED_MESSAGE,
    AuthenticationError,
    NotFoundError,
    OpenAIError,
    PublishDisabledError,
)
from connectors.selectors import PublishMode, connector_publish_mode
from connectors.services import (
    ConnectorUnavailable,
    connector_client,
    connector_switch_to_manual_export,
)
from skills.hub_action import hub_action_schema
from skills.models import KnowledgeFile, Publication, PublishRun, Skill, SkillVersion
from skills.services.bundles import knowledge_refs, tenant_context
from skills.targets.common import BundleError
from skills.targets.custom_gpt.transpiler import Bundle, skill_bundle

logger = logging.getLogger(__name__)

TARGET = Publication.Target.OPENAI_GPT
CONFIG_FIELDS = ("name", "description", "instructions", "conversation_starters", "tools", "actions")


class PublishError(Exception):
    """The whole publish cannot start (no connector, unreadable key): nothing was written."""


class PlanAction(StrEnum):
    """What a publish would do to one skill's GPT (the dry run prints these)."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    BLOCKED = "blocked"

    @property
    def writes(self) -> bool:
        return self in (PlanAction.CREATE, PlanAction.UPDATE)


class PublishOutcome(StrEnum):
    """What a publish did to one skill's GPT: printed, and kept in `PublishRun.results`."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    BLOCKED = "blocked"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self in (PublishOutcome.CREATED, PublishOutcome.UPDATED, PublishOutcome.UNCHANGED)


@dataclass
class PlanItem:
    skill: Skill
    action: PlanAction
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    bundle: Bundle | None = None
    publication: Publication | None = None
    force: bool = False  # overwrite the GPT and its sharing even if the bundle is unchanged


@dataclass(frozen=True)
class SkillOutcome:
    skill_id: str
    outcome: PublishOutcome
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    def line(self) -> str:
        return f"{self.skill_id}: {self.outcome}" + (f": {self.detail}" if self.detail else "")


@dataclass
class PublishReport:
    outcomes: list[SkillOutcome] = field(default_factory=list)
    message: str = ""  # a tenant-wide outcome, e.g. switched to manual export

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes) and not self.message


def bundle_snapshot(bundle: Bundle) -> dict:
    return {
        "config": {key: bundle.config[key] for key in CONFIG_FIELDS},
        "knowledge": [[ref.path, ref.sha256] for ref in bundle.knowledge],
        "group_ids": list(bundle.group_ids),
    }


def _changes(previous: dict, bundle: Bundle) -> list[str]:
    current = bundle_snapshot(bundle)
    changes = [
        key
        for key in CONFIG_FIELDS
        if previous.get("config", {}).get(key) != current["config"][key]
    ]
    if previous.get("knowledge") != current["knowledge"]:
        changes.append("knowledge files")
    if previous.get("group_ids") != current["group_ids"]:
        changes.append("sharing")
    return changes


def _skills_for(tenant: Tenant, skill_ids: list[str] | None) -> list[Skill]:
    queryset = Skill.objects.filter(tenant=tenant).select_related("tenant")
    if skill_ids:
        skills = list(queryset.filter(skill_id__in=skill_ids))
        unknown = sorted(set(skill_ids) - {skill.skill_id for skill in skills})
        if unknown:
            raise PublishError(f"no skill {', '.join(unknown)} for tenant {tenant.slug}")
        return skills
    return list(queryset)


def skills_publish_plan(
    *, tenant: Tenant, skill_ids: list[str] | None = None, force: bool = False
) -> list[PlanItem]:
    """What a publish would do per skill, without any network call or write. `force` updates
    published skills whose bundle is unchanged: a GPT edited in ChatGPT must be overwritten."""
    skills = _skills_for(tenant, skill_ids)
    try:
        manual_export = connector_publish_mode(tenant=tenant) == PublishMode.MANUAL_EXPORT
        unpublishable = PUBLISH_DISABLED_MESSAGE if manual_export else ""
    except ConnectorUnavailable as exc:
        unpublishable = exc.user_message
    context = tenant_context(tenant)
    refs = knowledge_refs(skills)
    action_schema = hub_action_schema()
    publications = {
        p.skill_id: p for p in Publication.objects.filter(skill__in=skills, target=TARGET)
    }
    plan = []
    for skill in skills:
        publication = publications.get(skill.pk)
        try:
            bundle = skill_bundle(
                skill.ir, tenant=context, action_schema=action_schema, knowledge=refs[skill.pk]
            )
        except BundleError as exc:
            plan.append(
                PlanItem(
                    skill, PlanAction.BLOCKED, "; ".join(exc.problems), publication=publication
                )
            )
            continue
        if unpublishable:
            plan.append(PlanItem(skill, PlanAction.BLOCKED, unpublishable, bundle=bundle))
        elif (
            publication
            and publication.gpt_id
            and publication.published_sha256 == bundle.sha256
            and not force
        ):
            plan.append(
                PlanItem(skill, PlanAction.UNCHANGED, bundle=bundle, publication=publication)
            )
        elif publication and publication.published_sha256:
            changes = _changes(publication.published_bundle, bundle)
            if force and not changes:
                changes = ["republish over the changes made in ChatGPT"]
            plan.append(
                PlanItem(
                    skill,
                    PlanAction.UPDATE,
                    changes=changes,
                    bundle=bundle,
                    publication=publication,
                    force=force,
                )
            )
        else:
            plan.append(PlanItem(skill, PlanAction.CREATE, bundle=bundle, publication=publication))
    return plan


@dataclass
class _Job:
    skill_id: str
    bundle: Bundle
    gpt_id: str
    file_ids: dict[str, str]  # sha256 → file id already uploaded
    uploads: dict[str, tuple[str, bytes, str]]  # sha256 → (filename, content, media type)
    share: bool


@dataclass
class _Result:
    job: _Job
    outcome: PublishOutcome
    gpt_id: str = ""
    file_ids: dict[str, str] = field(default_factory=dict)
    error: OpenAIError | None = None
    detail: str = ""


def _publish_one(client: OpenAIClient, job: _Job, stop: threading.Event) -> _Result:
    """Create-or-update one GPT by name, upload changed files, share it. HTTP only."""
    if stop.is_set():
        return _Result(
            job,
            PublishOutcome.FAILED,
            detail="not attempted: the publish stopped on an earlier error",
        )
    file_ids = dict(job.file_ids)
    try:
        for sha256, (filename, content, media_type) in job.uploads.items():
            uploaded = modelled.file_upload(
                client, filename=filename, content=content, media_type=media_type
            )
            file_ids[sha256] = uploaded["id"]
        config = dict(job.bundle.config)
        config["file_ids"] = [file_ids[ref.sha256] for ref in job.bundle.knowledge]
        gpt = None
        if job.gpt_id:
            try:
                gpt = modelled.gpt_update(client, job.gpt_id, config)
            except NotFoundError:
                gpt = None  # deleted behind our back: find it by name or create it again
        outcome = PublishOutcome.UPDATED
        if gpt is None:
            existing = modelled.gpt_find_by_name(client, job.bundle.name)
            owner = _claimed_by_another(existing, job.bundle) if existing else ""
            if owner:
                return _Result(
                    job,
                    PublishOutcome.FAILED,
                    file_ids=file_ids,
                    detail=f"the workspace's GPT {job.bundle.name} is {owner}'s: Claresia does "
                    "not take it over; rename this skill",
                )
            if existing:
                gpt = modelled.gpt_update(client, existing["id"], config)
            else:
                gpt = modelled.gpt_create(client, config)
                outcome = PublishOutcome.CREATED
        if job.share or gpt["id"] != job.gpt_id:  # a new or adopted GPT starts unshared
            try:
                if job.bundle.group_ids:
                    modelled.gpt_share(client, gpt["id"], list(job.bundle.group_ids))
                else:
                    modelled.gpt_unshare(client, gpt["id"])
            except NotFoundError as exc:
                if exc.code != "group_not_found":
                    raise
                archetypes = dict((group, slug) for slug, group in job.bundle.archetypes)
                missing = next((g for g in job.bundle.group_ids if g in exc.message), "")
                name = f"{missing} (archetype {archetypes[missing]})" if missing else "a group"
                return _Result(
                    job,
                    PublishOutcome.FAILED,
                    gpt_id=gpt["id"],
                    file_ids=file_ids,
                    detail=f"workspace group {name} does not exist in the ChatGPT workspace",
                )
        return _Result(job, outcome, gpt_id=gpt["id"], file_ids=file_ids)
    except OpenAIError as exc:
        if isinstance(exc, AuthenticationError | PublishDisabledError):
            stop.set()  # every other skill would get the same answer
        return _Result(
            job, PublishOutcome.FAILED, file_ids=file_ids, error=exc, detail=exc.user_message
        )


def _claimed_by_another(gpt: dict, bundle: Bundle) -> str:
    """Whose skill a same-named GPT is, when its metadata names another tenant or skill ("" when
    it is this skill's, or a GPT built by hand without Claresia's metadata, which is adopted)."""
    metadata = gpt.get("metadata") if isinstance(gpt.get("metadata"), dict) else {}
    tenant, skill = metadata.get("claresia_tenant"), metadata.get("claresia_skill")
    ours = bundle.config["metadata"]
    if not tenant or (tenant, skill) == (ours["claresia_tenant"], ours["claresia_skill"]):
        return ""
    return f"tenant {tenant}, skill {skill}"


def _jobs(plan: list[PlanItem]) -> list[_Job]:
    items = [item for item in plan if item.action.writes]
    needed: dict[str, set[str]] = {}
    jobs = []
    for item in items:
        publication = item.publication
        known = dict(publication.file_ids) if publication else {}
        wanted = {ref.sha256 for ref in item.bundle.knowledge}
        needed[item.skill.skill_id] = wanted - set(known)
        previous_groups = (
            (publication.published_bundle or {}).get("group_ids") if publication else None
        )
        jobs.append(
            _Job(
                skill_id=item.skill.skill_id,
                bundle=item.bundle,
                gpt_id=publication.gpt_id if publication else "",
                file_ids={sha: fid for sha, fid in known.items() if sha in wanted},
                uploads={},
                share=item.force
                or previous_groups != list(item.bundle.group_ids)
                or not publication.gpt_id,
            )
        )
    rows = KnowledgeFile.objects.filter(
        skill__in=[item.skill for item in items],
        sha256__in={sha for shas in needed.values() for sha in shas},
    ).values_list("skill__skill_id", "sha256", "path", "content", "media_type")
    by_skill = {job.skill_id: job for job in jobs}
    for skill_id, sha256, path, content, media_type in rows:
        if sha256 in needed[skill_id]:
            filename = path.rsplit("/", 1)[-1]
            by_skill[skill_id].uploads[sha256] = (filename, bytes(content), media_type)
    return jobs


def _record(item: PlanItem, result: _Result | None, now) -> SkillOutcome:
    publication = item.publication or Publication(skill=item.skill, target=TARGET)
    skill_id = item.skill.skill_id
    if item.action == PlanAction.UNCHANGED:
        return SkillOutcome(skill_id, PublishOutcome.UNCHANGED)
    publication.attempted_at = now
    if item.action == PlanAction.BLOCKED:
        publication.status = Publication.Status.BLOCKED
        publication.error = item.reason
        publication.bundle_sha256 = item.bundle.sha256 if item.bundle else ""
        publication.save()
        return SkillOutcome(skill_id, PublishOutcome.BLOCKED, item.reason)
    publication.bundle_sha256 = item.bundle.sha256
    publication.file_ids = result.file_ids or publication.file_ids
    if result.gpt_id:
        publication.gpt_id = result.gpt_id
    if result.outcome == PublishOutcome.FAILED:
        publication.status = Publication.Status.FAILED
        publication.error = result.detail
        publication.save()
        return SkillOutcome(skill_id, PublishOutcome.FAILED, result.detail)
    publication.status = Publication.Status.PUBLISHED
    publication.error = ""
    publication.published_sha256 = item.bundle.sha256
    publication.published_bundle = bundle_snapshot(item.bundle)
    publication.published_at = now
    publication.drift_status = Publication.DriftStatus.NOT_CHECKED
    publication.drift, publication.drift_error, publication.drift_checked_at = [], "", None
    with transaction.atomic():
        publication.save()
        SkillVersion.objects.filter(skill=item.skill, version=item.skill.version).update(
            published_bundle_sha256=item.bundle.sha256, published_at=now
        )
    return SkillOutcome(skill_id, result.outcome)


def skills_publish(
    *,
    tenant: Tenant,
    skill_ids: list[str] | None = None,
    on_outcome: Callable[[SkillOutcome], None] | None = None,
    concurrency: int | None = None,
    force: bool = False,
    **client_options,
) -> PublishReport:
    """Publish the tenant's skills (all, or `skill_ids`); never raises for one skill's failure.
    `force` overwrites published GPTs even when their bundle is unchanged (republish)."""
    plan = skills_publish_plan(tenant=tenant, skill_ids=skill_ids, force=force)
    report = PublishReport()

    def done(outcome: SkillOutcome) -> None:
        report.outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    now = timezone.now()
    for item in plan:
        if not item.action.writes:
            done(_record(item, None, now))
    jobs = _jobs(plan)
    if not jobs:
        return report
    try:
        client = connector_client(tenant=tenant, host=Host.PLATFORM, **client_options)
    except ConnectorUnavailable as exc:
        raise PublishError(exc.user_message) from None
    items = {item.skill.skill_id: item for item in plan}
    stop = threading.Event()
    disabled = False
    workers = max(1, min(concurrency or settings.SKILLS_PUBLISH_CONCURRENCY, len(jobs)))
    with client, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="publish") as pool:
        futures = [pool.submit(_publish_one, client, job, stop) for job in jobs]
        try:
            for future in as_completed(futures):
                result = future.result()
                disabled = disabled or isinstance(result.error, PublishDisabledError)
                done(_record(items[result.job.skill_id], result, timezone.now()))
        except SoftTimeLimitExceeded:
            stop.set()  # the skills not yet started are not attempted; the run says why
            raise
    if disabled:
        connector_switch_to_manual_export(tenant=tenant)
        report.message = PUBLISH_DISABLED_MESSAGE
    return report


def publish_run_create(
    *, tenant: Tenant, skill_ids: list[str], user=None, force: bool = False
) -> PublishRun:
    """Record a publish run for these skills (skills.tasks queues it)."""
    skills = _skills_for(tenant, skill_ids)
    return PublishRun.objects.create(
        tenant=tenant,
        started_by=user,
        skill_ids=[s.skill_id for s in skills],
        total=len(skills),
        force=force,
    )


def publish_run_execute(*, run_id: int) -> PublishRun:
    """Run a queued publish, saving progress after every skill. Safe to run twice: a finished
    run is left alone, and unchanged skills make no write call."""
    run = PublishRun.objects.select_related("tenant").get(pk=run_id)
    if not run.is_active:
        return run
    PublishRun.objects.filter(pk=run.pk).update(
        status=PublishRun.Status.RUNNING, done=0, failed=0, results=[]
    )

    def progress(outcome: SkillOutcome) -> None:
        counter = "done" if outcome.ok else "failed"
        run.results.append(
            {"skill_id": outcome.skill_id, "outcome": outcome.outcome, "detail": outcome.detail}
        )
        PublishRun.objects.filter(pk=run.pk).update(
            **{counter: F(counter) + 1}, results=run.results
        )

    run.results = []
    started = time.monotonic()
    try:
        report = skills_publish(
            tenant=run.tenant, skill_ids=run.skill_ids, on_outcome=progress, force=run.force
        )
    except (PublishError, SoftTimeLimitExceeded) as exc:
        run.refresh_from_db()
        if isinstance(exc, SoftTimeLimitExceeded):
            # The skills published before it keep their outcome; a rerun skips them unchanged.
            run.error = time_limit_reason(started)
            logger.warning("publish run %s of tenant %s %s", run.pk, run.tenant.slug, run.error)
        else:
            run.error = str(exc)
        run.status = PublishRun.Status.FAILED
    else:
        run.refresh_from_db()
        run.error = report.message
        run.status = PublishRun.Status.FINISHED if report.ok else PublishRun.Status.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run
