"""Tenants, their archetype groups, and which staff users belong to which tenant."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
slug_validator = RegexValidator(
    SLUG_PATTERN,
    "Use lowercase letters, digits and single hyphens, e.g. 'dainese' or 'acme-eu'.",
)
https_url_validator = URLValidator(
    schemes=["https"], message="Enter an https:// URL, e.g. https://hub.example.com."
)


class Tenant(models.Model):
    class DeploymentMode(models.TextChoices):
        A = "A", "A — Claresia cloud"
        B = "B", "B — dedicated Claresia cloud"
        C = "C", "C — customer cloud (own hub)"

    slug = models.CharField(max_length=48, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=120)
    deployment_mode = models.CharField(
        max_length=1, choices=DeploymentMode.choices, default=DeploymentMode.A
    )
    hub_base_url = models.URLField(
        blank=True,
        validators=[https_url_validator],
        help_text="Required for Mode C: the customer cloud's hub, which published GPTs call.",
    )
    # End users who see a footer get no Claresia login: the footer's "View record" carries a
    # signed, expiring link to that one record, read only (telemetry/hub/links.py).
    record_links = models.BooleanField(
        "View record links for end users",
        default=True,
        help_text=(
            "On: the footer's View record link opens that one record, read only, without a "
            "Claresia login, until it expires. Off: only this tenant's staff can open records, "
            "after logging in; links already given stop working."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.deployment_mode == self.DeploymentMode.C and not self.hub_base_url:
            raise ValidationError(
                {"hub_base_url": "Mode C tenants run their own hub: give its https:// URL."}
            )

    @property
    def hub_base(self) -> str:
        """The hub that this tenant's GPTs call (hub-records-api.md: Mode C overrides)."""
        if self.deployment_mode == self.DeploymentMode.C and self.hub_base_url:
            return self.hub_base_url.rstrip("/")
        return settings.CLARESIA_HUB_BASE_URL.rstrip("/")


class ArchetypeGroup(models.Model):
    """A group of people a skill is shared with; maps to a ChatGPT workspace group."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="archetypes")
    slug = models.CharField(max_length=48, validators=[slug_validator])
    name = models.CharField(max_length=120)
    workspace_group_id = models.CharField(
        "ChatGPT workspace group id",
        max_length=64,
        blank=True,
        help_text="The group's id in the ChatGPT Enterprise workspace, e.g. grp_sre.",
    )

    class Meta:
        ordering = ["tenant", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="uniq_archetype_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant.slug})"


class TenantMembership(models.Model):
    """A staff user's access to one tenant. Superusers need none: they see every tenant."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin — can change"
        VIEWER = "viewer", "Viewer — read only"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.ADMIN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="uniq_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.tenant.slug} ({self.role})"
