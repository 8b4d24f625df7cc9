"""Who may use the Command Center, and the tenant a page is about: through claresia.scoping only."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from claresia.models import Tenant
from claresia.scoping import is_active_staff, tenants_editable_by, tenants_visible_to


class NoTenant(PermissionDenied):
    """The user may see no tenant: the 403 page says how to create or join one."""


def command_center_page(view):
    """Every Command Center view: the login page for anonymous users, then what the admin asks
    of a user, checked on each request so that a removed staff flag ends a live session's
    rights: an active staff account, with a tenant membership unless a superuser."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not is_active_staff(request.user):
            raise PermissionDenied(
                "The Command Center is for tenant staff: ask a Claresia administrator for access."
            )
        if not tenants_visible_to(request.user).exists():
            raise NoTenant("You are not a member of any tenant.")
        return view(request, *args, **kwargs)

    return login_required(checked)


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
