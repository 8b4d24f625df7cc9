"""Publishing a tenant's skills as its git plugin marketplace (`chatgpt-admin-api.md`, "Plugins,
the successor"): build the repository from the Skill IR (`skills.targets.plugin.marketplace`,
pure), commit it on
top of what the remote holds, push it (never forced), and record where it stands.

Nothing is lost on a fault: the remote is only ever fast-forwarded, a non-fast-forward is fetched
and rebuilt on top of the other commit (their files kept), and since the commit is derived from
its parent and its tree, a push that was interrupted is simply made again by the next publish (or
found already there, when the remote took it before the connection dropped).
"""

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from claresia.locks import LockClass, advisory_lock
from claresia.models import Tenant
from claresia.time_limits import SoftTimeLimitExceeded, time_limit_reason
from connectors.plugin_remote import plugin_remote_credentials
from connectors.services import ConnectorUnavailable
from skills.models import KnowledgeFile, PluginMarketplace, PluginPublishRun, Skill
from skills.services.bundles import tenant_context
from skills.targets.common import BundleError, TenantContext
from skills.targets.plugin.build import AgentSkill, agent_skill
from skills.targets.plugin.git import GitError, GitFault, Remote, TenantRepository
from skills.targets.plugin.marketplace import (
    MARKETPLACE_MAX_BYTES,
    MARKETPLACE_PATH,
    SkillChanges,
    commit_epoch,
    commit_message,
    is_owned,
    marketplace,
    plugin_root,
    plugin_version,
    skill_changes,
    skill_digests,
)

logger = logging.getLogger(__name__)

# A push refused as a non-fast-forward is fetched and rebuilt this many times in all.
PUSH_ATTEMPTS = 3


class PluginOutcome(StrEnum):
    PUBLISHED = "published"
    UNCHANGED = "unchanged"
    DRY_RUN = "dry run"
    FAILED = "failed"


@dataclass
class PluginPublishResult:
    outcome: PluginOutcome
    commit: str = ""
    changes: SkillChanges = field(default_factory=SkillChanges)
    blocked: list[tuple[str, list[str]]] = field(default_factory=list)
    error: str = ""
    # A dry run's answer: whether a publish would make a commit.
    would_commit: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome != PluginOutcome.FAILED

    def lines(self) -> list[str]:
        """What the command prints and the page shows: the outcome, then the skills."""
        if self.outcome == PluginOutcome.FAILED:
            head = f"failed: {self.error}"
        elif self.outcome == PluginOutcome.PUBLISHED:
            head = f"committed {self.commit} and pushed"
        elif self.outcome == PluginOutcome.DRY_RUN:
            head = "dry run: would commit and push" if self.would_commit else "dry run: unchanged"
        else:
            head = "unchanged" + (f" ({self.commit[:8]})" if self.commit else "")
        lines = [head, *self.changes.lines()]
        lines += [f"blocked {sid}: {'; '.join(problems)}" for sid, problems in self.blocked]
        return lines


@dataclass
class _Build:
    context: TenantContext
    skills: list[AgentSkill]
    irs: dict[str, dict]
    blocked: list[tuple[str, list[str]]]
    changed_at: int | None = None  # unix time of the newest change among the tenant's skills


def _build(tenant: Tenant) -> _Build:
    """The tenant's skills as Agent Skills folders (the plugin export's), blocked ones apart."""
    skills = list(Skill.objects.filter(tenant=tenant).order_by("skill_id"))
    contents: dict[int, dict[str, bytes]] = {skill.pk: {} for skill in skills}
    rows = KnowledgeFile.objects.filter(skill__in=skills).values_list("skill_id", "path", "content")
    for skill_pk, path, content in rows:
        contents[skill_pk][path] = bytes(content)
    built, blocked = [], []
    for skill in skills:
        try:
            built.append(agent_skill(skill.ir, files=contents[skill.pk]))
        except BundleError as exc:
            blocked.append((skill.skill_id, exc.problems))
    irs = {skill.skill_id: skill.ir for skill in skills}
    changed_at = max((int(skill.updated_at.timestamp()) for skill in skills), default=None)
    return _Build(tenant_context(tenant), built, irs, blocked, changed_at)


def plugin_marketplace_state(*, tenant: Tenant) -> PluginMarketplace:
    return PluginMarketplace.objects.get_or_create(tenant=tenant)[0]


def plugin_marketplace_read(*, tenant: Tenant) -> PluginMarketplace:
    """The stored state for a page: an unsaved empty one before the first publish, because a
    page never writes."""
    return PluginMarketplace.objects.filter(tenant=tenant).first() or PluginMarketplace(
        tenant=tenant
    )


def plugin_pending(*, tenant: Tenant) -> SkillChanges:
    """The skills a publish would add, change or remove, against the last commit Claresia
    pushed or found (no network: the dry run asks the remote itself)."""
    build = _build(tenant)
    built = marketplace(build.skills, build.irs, tenant=build.context)
    before = plugin_marketplace_read(tenant=tenant).published_skills
    after = dict(built.skill_digests)
    for skill_id, _ in build.blocked:  # a blocked skill stays as it was published
        if skill_id in before:
            after[skill_id] = before[skill_id]
    return skill_changes(before, after)


def _repository(tenant: Tenant) -> TenantRepository:
    credentials = plugin_remote_credentials(tenant=tenant)
    root = Path(settings.PLUGIN_REPOS_DIR)
    return TenantRepository(
        root / f"{tenant.slug}.git",
        Remote(url=credentials.url, token=credentials.token),
        branch=settings.PLUGIN_REPOS_BRANCH,
        timeout=settings.PLUGIN_GIT_TIMEOUT,
    )


@contextmanager
def _tenant_publish_lock(tenant: Tenant):
    """One publish of a tenant's marketplace at a time across every worker host (an advisory
    lock in the shared database, claresia/locks.py): the bare cache it works in is this host's,
    and two hosts' pushes would otherwise race on the remote."""
    with advisory_lock(
        LockClass.PLUGIN_PUBLISH, tenant.pk, wait=settings.PLUGIN_PUBLISH_LOCK_WAIT
    ) as acquired:
        if not acquired:
            raise GitError(
                GitFault.BUSY,
                "another publish of this tenant's plugin is running: try again when it ends",
            )
        yield


def _record(tenant: Tenant, **fields) -> None:
    PluginMarketplace.objects.update_or_create(
        tenant=tenant, defaults={"last_attempt_at": timezone.now(), **fields}
    )


@dataclass
class _Candidate:
    """The marketplace built on top of what the remote holds at `base`: its tree, what it changes
    against `base`, and the commit that landed it (none when the tree is already there, or on
    a dry run)."""

    base: str | None
    tree: str
    unchanged: bool
    changes: SkillChanges
    skills: dict[str, str]  # skill id → digest, as the tree holds them
    version: str
    commit: str = ""
    message: str = ""


def _candidate(repository: TenantRepository, build: _Build) -> _Candidate:
    """Fetch the remote and build the tenant's marketplace on top of it (their files kept)."""
    context = build.context
    blocked_folders = tuple(f"{plugin_root(context)}/skills/{sid}/" for sid, _ in build.blocked)

    def drop(path: str) -> bool:
        return is_owned(path, context) and not path.startswith(blocked_folders)

    base = repository.fetch()
    existing = repository.read(base, MARKETPLACE_PATH, limit=MARKETPLACE_MAX_BYTES)
    built = marketplace(build.skills, build.irs, tenant=context, existing_marketplace=existing)
    tree = repository.build_tree(base, built.files, drop=drop)
    before = skill_digests(repository.blobs(base), tenant=context)
    after = skill_digests(repository.blobs(tree), tenant=context)
    return _Candidate(
        base=base,
        tree=tree,
        unchanged=tree == repository.tree_of(base),
        changes=skill_changes(before, after),
        skills=after,
        version=plugin_version(built.files, tenant=context),
    )


def _land(repository: TenantRepository, build: _Build, *, dry_run: bool) -> _Candidate:
    """Build, commit and push (never forced) until the push lands: a push refused as a
    non-fast-forward (someone pushed by hand) is fetched and rebuilt on top of their commit, at
    most PUSH_ATTEMPTS times in all; any other fault, or the last refusal, is raised. Records
    nothing."""
    repository.ensure()
    refused = 0
    while True:
        candidate = _candidate(repository, build)
        if candidate.unchanged or dry_run:
            return candidate
        parent_epoch = repository.commit_info(candidate.base)[0] if candidate.base else None
        message = commit_message(candidate.changes, tenant=build.context)
        epoch = commit_epoch(parent_epoch, changed_at=build.changed_at)
        commit = repository.commit(candidate.tree, candidate.base, message, epoch=epoch)
        try:
            repository.push(commit)
        except GitError as exc:
            refused += exc.fault == GitFault.REJECTED
            if exc.fault != GitFault.REJECTED or refused >= PUSH_ATTEMPTS:
                raise
            continue
        candidate.commit, candidate.message = commit, message.strip()
        return candidate


def _publish_locked(
    repository: TenantRepository, build: _Build, *, tenant: Tenant, dry_run: bool
) -> PluginPublishResult:
    landed = _land(repository, build, dry_run=dry_run)
    result = PluginPublishResult(
        outcome=PluginOutcome.UNCHANGED, changes=landed.changes, blocked=build.blocked
    )
    if dry_run:
        result.outcome = PluginOutcome.DRY_RUN
        result.would_commit = not landed.unchanged
        result.commit = (landed.base or "") if landed.unchanged else ""
        return result
    if landed.unchanged:
        result.commit = landed.base or ""
        if landed.base:  # the remote holds it: it becomes the last commit Claresia knows
            _epoch, message = repository.commit_info(landed.base)
            found = plugin_marketplace_state(tenant=tenant).last_commit != landed.base
            _record(
                tenant,
                last_commit=landed.base,
                last_commit_message=message,
                published_skills=landed.skills,
                last_plugin_version=landed.version,
                last_error="",
                **({"last_published_at": timezone.now()} if found else {}),
            )
        return result
    _record(
        tenant,
        last_commit=landed.commit,
        last_commit_message=landed.message,
        last_published_at=timezone.now(),
        published_skills=landed.skills,
        last_plugin_version=landed.version,
        last_error="",
    )
    result.outcome = PluginOutcome.PUBLISHED
    result.commit = landed.commit
    return result


def plugin_publish(*, tenant: Tenant, dry_run: bool = False) -> PluginPublishResult:
    """Commit the tenant's marketplace on top of the remote and push it (`dry_run`: say what
    would be committed, push nothing). Never raises for a remote's fault: the result and the
    tenant's PluginMarketplace say what happened, in one line."""
    started = time.monotonic()
    build = _build(tenant)
    try:
        repository = _repository(tenant)
        with _tenant_publish_lock(tenant):
            return _publish_locked(repository, build, tenant=tenant, dry_run=dry_run)
    except (GitError, ConnectorUnavailable, SoftTimeLimitExceeded) as exc:
        # A time limit left the lock on the way out; nothing half-pushed: the remote is only
        # ever fast-forwarded, and the next publish makes the same commit again.
        if isinstance(exc, SoftTimeLimitExceeded):
            error = time_limit_reason(started)
            logger.warning("plugin publish of tenant %s %s", tenant.slug, error)
        else:
            error = exc.user_message
        if not dry_run:
            _record(tenant, last_error=error)
        return PluginPublishResult(outcome=PluginOutcome.FAILED, blocked=build.blocked, error=error)


# ---- runs queued from the Command Center -------------------------------------------------


def plugin_run_create(*, tenant: Tenant, dry_run: bool, user=None) -> PluginPublishRun:
    return PluginPublishRun.objects.create(tenant=tenant, dry_run=dry_run, started_by=user)


def plugin_run_execute(*, run_id: int) -> PluginPublishRun:
    """Run a queued publish or dry run and keep its result. Safe to run twice: a finished run
    is left alone, and a publish of what is already there makes no commit."""
    with transaction.atomic():
        run = PluginPublishRun.objects.select_for_update().select_related("tenant").get(pk=run_id)
        if not run.is_active:
            return run
        run.status = PluginPublishRun.Status.RUNNING
        run.save(update_fields=["status"])
    result = plugin_publish(tenant=run.tenant, dry_run=run.dry_run)
    run.status = PluginPublishRun.Status.FINISHED if result.ok else PluginPublishRun.Status.FAILED
    run.outcome = result.outcome
    run.commit = result.commit
    run.changes = {
        **result.changes.as_dict(),
        "blocked": [[sid, problems] for sid, problems in result.blocked],
        "would_commit": result.would_commit,
    }
    run.error = result.error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "outcome", "commit", "changes", "error", "finished_at"])
    return run


def plugin_runs_recent(*, tenant: Tenant, limit: int = 5) -> list[PluginPublishRun]:
    return list(PluginPublishRun.objects.filter(tenant=tenant)[:limit])
