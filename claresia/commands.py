"""What the management commands of every app share: the tenant their `--tenant` names."""

from django.core.management.base import CommandError

from claresia.models import Tenant


def tenant_for_command(slug: str, *, hint: str = "create it with create_tenant first") -> Tenant:
    """The tenant with this slug, or the one line every command answers an unknown slug with."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"no tenant with slug {slug!r}: {hint}")
    return tenant
