"""The tenant a skill action works on: the actions take the skills of one tenant at a time."""

from django.contrib import messages

from claresia.scoping import tenants_editable_by


def one_tenant(model_admin, request, queryset, *, edit: bool):
    """The one tenant of the selected skills, or None once the user is told why not (skills of
    several tenants, or, with `edit`, a read-only role on the tenant)."""
    tenants = {skill.tenant for skill in queryset}
    if len(tenants) != 1:
        model_admin.message_user(request, "Select skills of one tenant at a time.", messages.ERROR)
        return None
    (tenant,) = tenants
    if edit and not tenants_editable_by(request.user).filter(pk=tenant.pk).exists():
        model_admin.message_user(request, "Your role on this tenant is read only.", messages.ERROR)
        return None
    return tenant
