"""Skills of a tenant, kept as Skill IR (`shared/contracts/skill-ir.md`)."""

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
