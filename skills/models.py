"""Skills of a tenant, kept as Skill IR (`shared/contracts/skill-ir.md`), their knowledge files,
version history, and where each has been published (Part 3)."""

from django.conf import settings
from django.db import models

from claresia.models import Tenant, slug_validator


class Skill(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="skills")
    skill_id = models.CharField("skill id", max_length=48, validators=[slug_validator])
    name = models.CharField(max_length=60, help_text="Display name, shown in the footer.")
    version = models.CharField(max_length=32)
    description = models.CharField(max_length=300)
    ir = models.JSONField(help_text="The validated Skill IR document.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "skill_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "skill_id"], name="uniq_skill_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant.slug}/{self.skill_id})"

    @property
    def gpt_name(self) -> str:
        return f"claresia-{self.tenant.slug}-{self.skill_id}"


class KnowledgeFile(models.Model):
    """A file a skill ships with; its SHA-256 decides whether a publish uploads it again."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="knowledge_files")
    path = models.CharField(max_length=255, help_text="Relative POSIX path in the skill folder.")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    media_type = models.CharField(max_length=128)
    content = models.BinaryField()

    class Meta:
        ordering = ["skill", "path"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "path"], name="uniq_knowledge_path"),
        ]

    def __str__(self) -> str:
        return self.path


class SkillVersion(models.Model):
    """Each version of a skill ever imported, and when (if) it was published: the history kept
    when a newer version replaces the skill."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=32)
    ir = models.JSONField()
    imported_at = models.DateTimeField(auto_now_add=True)
    published_bundle_sha256 = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["skill", "-imported_at"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "version"], name="uniq_skill_version"),
        ]

    def __str__(self) -> str:
        return f"{self.skill.skill_id} {self.version}"


class Publication(models.Model):
    """Where one skill stands on one target: the GPT, the bundle last published, the outcome."""

    class Target(models.TextChoices):
        OPENAI_GPT = "openai-gpt", "ChatGPT Enterprise Custom GPT"

    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked"

    class DriftStatus(models.TextChoices):
        NOT_CHECKED = "", "Not checked"
        IN_SYNC = "in_sync", "In sync"
        DRIFTED = "drifted", "Changed in ChatGPT"
        MISSING = "missing", "Deleted in ChatGPT"
        ERROR = "error", "Could not check"

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="publications")
    target = models.CharField(max_length=32, choices=Target.choices, default=Target.OPENAI_GPT)
    status = models.CharField(max_length=16, choices=Status.choices)
    gpt_id = models.CharField("GPT id", max_length=64, blank=True)
    bundle_sha256 = models.CharField(
        max_length=64, blank=True, help_text="The bundle attempted last."
    )
    published_sha256 = models.CharField(
        max_length=64, blank=True, help_text="The bundle of the last successful publish."
    )
    # The bundle (config, knowledge, sharing) last published: the dry run diffs against it.
    published_bundle = models.JSONField(default=dict, blank=True)
    # {knowledge SHA-256: OpenAI file id}: a file is uploaded again only when its hash changed.
    file_ids = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Drift: the live GPT read back and compared with `published_bundle` (drift.py). A publish
    # overwrites the GPT, so it resets these to "not checked".
    drift_status = models.CharField(max_length=16, choices=DriftStatus.choices, blank=True)
    drift_checked_at = models.DateTimeField(null=True, blank=True)
    # [{"field": "instructions", "detail": "…"}] when drifted or missing.
    drift = models.JSONField(default=list, blank=True)
    drift_error = models.TextField(blank=True, help_text="Why the last check could not read it.")

    class Meta:
        ordering = ["skill", "target"]
        constraints = [
            models.UniqueConstraint(fields=["skill", "target"], name="uniq_publication_target"),
        ]

    def __str__(self) -> str:
        return f"{self.skill.skill_id} → {self.target}: {self.status}"

    @property
    def has_drifted(self) -> bool:
        return self.drift_status in (self.DriftStatus.DRIFTED, self.DriftStatus.MISSING)


class PublishRun(models.Model):
    """One publish of many skills, started by someone who watches its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Finished with failures"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="publish_runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    skill_ids = models.JSONField(help_text="Skill ids (IR ids) to publish, in order.")
    # A republish overwrites the GPT even when the bundle is unchanged, to undo drift.
    force = models.BooleanField(default=False, help_text="Publish even unchanged bundles.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"skill_id", "outcome", "detail"}] in completion order.
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"publish run {self.pk} ({self.tenant.slug}, {self.status})"

    @property
    def remaining(self) -> int:
        return max(self.total - self.done - self.failed, 0)

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class PluginMarketplace(models.Model):
    """Where the tenant's plugin marketplace repository stands: the last commit Claresia pushed
    (or found already there), and the last publish's error until one succeeds."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="plugin_marketplace"
    )
    last_commit = models.CharField(max_length=40, blank=True)
    last_commit_message = models.TextField(blank=True)
    last_published_at = models.DateTimeField(null=True, blank=True)
    # The `version` of the plugin's `.codex-plugin/plugin.json` in the last commit: what a
    # workspace that has synced it reports (the plugin arrival check compares the two).
    last_plugin_version = models.CharField(max_length=100, blank=True)
    # {skill id: digest} in the last commit: what the page's "pending" compares with.
    published_skills = models.JSONField(default=dict, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="The last publish's fault, if it failed.")

    class Meta:
        verbose_name = "plugin marketplace"

    def __str__(self) -> str:
        return f"plugin marketplace of {self.tenant.slug}"

    @property
    def short_commit(self) -> str:
        return self.last_commit[:8]


class PluginPublishRun(models.Model):
    """One publish (or dry run) of the tenant's plugin marketplace, queued from the page."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="plugin_runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(max_length=16, blank=True)
    commit = models.CharField(max_length=40, blank=True)
    # {"added": [...], "changed": [...], "removed": [...], "blocked": [[id, [problems]], ...]}
    changes = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "publish"
        return f"plugin {kind} {self.pk} ({self.tenant.slug}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class WorkspaceRead(models.Model):
    """What the tenant's ChatGPT workspace held when Claresia last read it: each skill's GPT
    against the GPT inventory, and where the plugin stands in the plugin inventory
    (`chatgpt-admin-api.md` → GPT inventory, Plugins). Written by a queued task, read by the
    pages: a page never waits on OpenAI (skills.services.workspace_read)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="workspace_read")
    # One WorkspaceSkillLine per skill, as JSON; empty with `gpts_error` when the read failed.
    gpt_lines = models.JSONField(default=list, blank=True)
    gpts_error = models.TextField(blank=True)
    gpts_read_at = models.DateTimeField(null=True, blank=True)
    # The PluginArrival the last read found, as JSON.
    plugin_arrival = models.JSONField(default=dict, blank=True)
    plugin_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "workspace read"

    def __str__(self) -> str:
        return f"workspace read of {self.tenant.slug}"
