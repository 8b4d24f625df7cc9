"""Tenant services: the admin and the management commands both call these."""

from django.core.exceptions import ValidationError
from django.db import transaction

from claresia.models import ArchetypeGroup, Tenant


@transaction.atomic
def tenant_create(
    *, slug: str, name: str, deployment_mode: str = Tenant.DeploymentMode.A, hub_base_url: str = ""
) -> Tenant:
    """Validate and save a tenant; raises ValidationError (nothing saved) on bad input."""
    tenant = Tenant(
        slug=slug, name=name, deployment_mode=deployment_mode, hub_base_url=hub_base_url
    )
    tenant.full_clean()
    tenant.save()
    return tenant


def tenant_slugs_extending(*, tenant: Tenant) -> list[str]:
    """Other tenants' slugs that start with this one's and a dash (`alpha-eu` for `alpha`): GPT
    names `claresia-{slug}-{skill}` of the two can look alike, so ingest tells them apart."""
    return list(
        Tenant.objects.filter(slug__startswith=f"{tenant.slug}-")
        .exclude(pk=tenant.pk)
        .values_list("slug", flat=True)
    )


@transaction.atomic
def archetype_create(
    *, tenant: Tenant, slug: str, name: str, workspace_group_id: str = ""
) -> ArchetypeGroup:
    group = ArchetypeGroup(
        tenant=tenant, slug=slug, name=name, workspace_group_id=workspace_group_id
    )
    group.full_clean()
    group.save()
    return group


def validation_message(error: ValidationError) -> str:
    """One line naming each field and what is wrong with it, for commands and messages."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
