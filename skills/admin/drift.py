"""Drift from the skill list: queue a check of the tenant's live GPTs against their last publish;
the Drift column and the change page show what it found (republishing over it is in
`publishing.py`)."""

from django.contrib import admin, messages

from claresia.admin_history import admin_history_log
from skills.admin.selection import one_tenant
from skills.tasks import drift_check_start


class DriftActionsMixin:
    @admin.action(
        description="Check drift: compare the live GPTs with their last publish",
        permissions=["change"],  # it queues work and writes what it finds: not for viewers
    )
    def check_drift_selected(self, request, queryset):
        # The task reads back every published GPT of the tenant: one call per GPT, too slow
        # for a request, and the selected skills are among them.
        tenant = one_tenant(self, request, queryset, edit=True)
        if tenant is None:
            return None
        drift_check_start(tenant=tenant)
        admin_history_log(request, queryset, "Drift check queued.")
        self.message_user(
            request,
            f"Drift check of {tenant.name}'s published GPTs queued; the Drift column shows "
            "the result when it lands.",
            messages.SUCCESS,
        )
        return None
