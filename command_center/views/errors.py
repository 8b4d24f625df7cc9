"""The 403 page: for a user who may see no tenant yet, what to do about it. A superuser on an
install with no tenant is not refused anything: the same guidance answers 200."""

from django.shortcuts import render
from django.views.defaults import permission_denied as django_permission_denied

from command_center.pages import NoTenant


def permission_denied(request, exception=None):
    if isinstance(exception, NoTenant):
        return render(
            request,
            "command_center/no_tenant.html",
            {"section": "", "tenant": None},
            status=200 if request.user.is_superuser else 403,
        )
    return django_permission_denied(request, exception)
