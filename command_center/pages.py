"""The tenant a Command Center page is about, chosen through claresia.scoping only."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from claresia.models import Tenant
from claresia.scoping import tenants_editable_by, tenants_visible_to


class NoTenant(PermissionDenied):
    """The user may see no tenant: the 403 page says how to create or join one."""


def page_tenant(request) -> tuple[Tenant, list[Tenant]]:
    """The tenant of `?tenant=slug` (else the first the user may see), and all they may see.

    Another tenant's slug is a 404, like an unknown one: its existence is not disclosed.
    """
    visible = list(tenants_visible_to(request.user).order_by("slug"))
    if not visible:
        raise NoTenant("You are not a member of any tenant.")
    slug = request.GET.get("tenant") or request.POST.get("tenant")
    if not slug:
        return visible[0], visible
    for tenant in visible:
        if tenant.slug == slug:
            return tenant, visible
    raise Http404("No such tenant.")


def can_edit(user, tenant: Tenant) -> bool:
    return tenants_editable_by(user).filter(pk=tenant.pk).exists()


def editable_page_tenant(request) -> Tenant:
    """`page_tenant`, refused (403) to a viewer: the page changes something."""
    tenant, _ = page_tenant(request)
    if not can_edit(request.user, tenant):
        raise PermissionDenied("Your role on this tenant is read only.")
    return tenant
