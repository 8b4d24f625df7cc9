from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.models import ADDITION
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.formatting import latency_text, name_cell, short_datetime, truncated
from claresia.scoping import TenantScopedAdminMixin, tenants_editable_by
from telemetry.hub.models import GovernanceEvent, HubRecord, HubToken, ModelPrice
from telemetry.hub.services import (
    governance_events_reopen,
    governance_events_review,
    hub_token_issue,
    hub_tokens_revoke,
)
from telemetry.pricing_core import DEFAULT_PRICES


class ReadOnlyAdminMixin:
    """Rows only Claresia writes (the hub API, the poller, the import, the reconciliation):
    staff read them, never add, edit or delete."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HubToken)
class HubTokenAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "tenant", "ending", "created_at", "last_used_at", "state"]
    list_filter = [("tenant", RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant"]
    fields = ["tenant", "name"]
    actions = ["revoke_selected"]

    @admin.display(description="Token")
    def ending(self, obj: HubToken) -> str:
        return f"…{obj.last4}"

    @admin.display(description="State", ordering="revoked_at")
    def state(self, obj: HubToken) -> str:
        return "revoked" if obj.revoked_at else "active"

    def get_changeform_initial_data(self, request):
        # A user with one tenant mints for it: the form starts with it chosen.
        initial = super().get_changeform_initial_data(request)
        tenants = tenants_editable_by(request.user)
        if "tenant" not in initial and tenants.count() == 1:
            initial["tenant"] = tenants.get().pk
        return initial

    def has_change_permission(self, request, obj=None):
        # A token cannot be edited, only minted or revoked (the revoke action needs no change
        # permission on the row, only on the tenant: checked by the scoped queryset).
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.is_staff and self._can_edit(request, None)

    def save_model(self, request, obj, form, change):
        issued = hub_token_issue(tenant=obj.tenant, name=form.cleaned_data["name"])
        obj.pk = issued.token.pk
        # Carried on this unsaved form instance to response_add, the one place it is shown.
        obj.issued_plaintext = issued.plaintext

    def log_addition(self, request, obj, message):
        token = HubToken.objects.select_related("tenant").get(pk=obj.pk)
        (entry,) = admin_history_log(
            request, [token], f"Issued the hub token …{token.last4} (shown once).", flag=ADDITION
        )
        return entry

    def response_add(self, request, obj, post_url_continue=None):
        # The plaintext goes straight into this one response, never into a message or a cookie.
        return TemplateResponse(
            request,
            "admin/telemetry/hubtoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "title": "Hub token minted",
                "token": HubToken.objects.select_related("tenant").get(pk=obj.pk),
                "plaintext": obj.issued_plaintext,
                "changelist_url": reverse("admin:telemetry_hubtoken_changelist"),
            },
        )

    @admin.action(description="Revoke selected hub tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        # Viewers of a tenant see its tokens but may not revoke them.
        active = queryset.filter(
            tenant__in=tenants_editable_by(request.user), revoked_at__isnull=True
        )
        tokens = list(active.select_related("tenant"))  # for the history, before they change
        count = hub_tokens_revoke(tokens=active)
        admin_history_log(request, tokens, "Revoked.")
        self.message_user(
            request,
            ngettext("Revoked %d hub token.", "Revoked %d hub tokens.", count) % count,
            messages.SUCCESS,
        )


@admin.register(HubRecord)
class HubRecordAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    # The columns that fit 1280 px: the record id shortened (whole on hover and on its page).
    list_display = ["short_id", "short_tenant", "short_skill", "status", "cost", "latency",
                    "created"]  # fmt: skip
    list_filter = [
        ("tenant", RelatedOnlyFieldListFilter),
        ("skill", RelatedOnlyFieldListFilter),
        "status",
        "cost_estimated",
    ]
    list_select_related = ["tenant", "skill"]
    search_fields = ["id", "record_key", "openai_conversation_id"]
    date_hierarchy = "created_at"
    exclude = ["token", "content_hash"]

    @admin.display(description="Record", ordering="id")
    def short_id(self, obj: HubRecord) -> str:
        # The record's page (what its footer links to); the whole id on hover.
        url = reverse("hub-record-page", args=[obj.pk])
        return format_html('<a href="{}" title="{}">{}…</a>', url, obj.id, str(obj.id)[:8])

    @admin.display(description="Latency", ordering="latency_ms")
    def latency(self, obj: HubRecord) -> str:
        return latency_text(obj.latency_ms)

    @admin.display(description="Tenant", ordering="tenant__name")
    def short_tenant(self, obj: HubRecord) -> str:
        return name_cell(obj.tenant)

    @admin.display(description="Skill", ordering="skill__name")
    def short_skill(self, obj: HubRecord) -> str:
        return name_cell(obj.skill, 24)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: HubRecord) -> str:
        return short_datetime(obj.created_at)

    @admin.display(description="Cost", ordering="cost_usd")
    def cost(self, obj: HubRecord) -> str:
        # "est." as on the record page and in the footer: the hub estimated it (no usage sent).
        text = f"${obj.cost_usd:.4f}"
        return f"{text} est." if obj.cost_estimated else text


class ReviewListFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("reviewed", "Reviewed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "reviewed":
            return queryset.filter(reviewed_at__isnull=False)
        return queryset


@admin.register(GovernanceEvent)
class GovernanceEventAdmin(ReadOnlyAdminMixin, TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "when",
        "short_tenant",
        "kind",
        "short_skill",
        "short_message",
        "record",
        "open",
    ]
    list_filter = [
        ReviewListFilter,
        ("tenant", RelatedOnlyFieldListFilter),
        ("skill", RelatedOnlyFieldListFilter),
        "kind",
    ]
    list_select_related = ["tenant", "skill", "hub_record"]
    search_fields = ["message", "openai_conversation_id", "dedupe_key"]
    date_hierarchy = "occurred_at"
    actions = ["mark_reviewed", "reopen"]

    @admin.display(description="Occurred", ordering="occurred_at")
    def when(self, obj: GovernanceEvent) -> str:
        return short_datetime(obj.occurred_at)

    @admin.display(description="Tenant", ordering="tenant__name")
    def short_tenant(self, obj: GovernanceEvent) -> str:
        return name_cell(obj.tenant)

    @admin.display(description="Skill", ordering="skill__name")
    def short_skill(self, obj: GovernanceEvent) -> str:
        return name_cell(obj.skill, 24)

    @admin.display(description="Message")
    def short_message(self, obj: GovernanceEvent) -> str:
        return truncated(obj.message, 56)

    @admin.display(description="Hub record")
    def record(self, obj: GovernanceEvent) -> str:
        if obj.hub_record_id is None:
            return "—"
        url = reverse("hub-record-page", args=[obj.hub_record_id])
        return format_html('<a href="{}" title="{}">View record</a>', url, obj.hub_record_id)

    # Words, not the admin's boolean icons: a green ✓ beside an open event read as "fine".
    @admin.display(description="State", ordering="reviewed_at")
    def open(self, obj: GovernanceEvent) -> str:
        if obj.is_open:
            return format_html('<strong style="color:var(--error-fg)">{}</strong>', "open")
        return f"reviewed {short_datetime(obj.reviewed_at)}"

    def has_review_permission(self, request) -> bool:
        return tenants_editable_by(request.user).exists()

    @admin.action(description="Mark selected events reviewed", permissions=["review"])
    def mark_reviewed(self, request, queryset):
        # Viewers of a tenant see its events but may not mark them.
        open_events = queryset.filter(
            tenant__in=tenants_editable_by(request.user), reviewed_at__isnull=True
        )
        events = list(open_events.select_related("tenant"))  # for the history, before they change
        count = governance_events_review(events=open_events, user=request.user)
        admin_history_log(request, events, "Marked reviewed.")
        self.message_user(
            request,
            ngettext("Marked %d event reviewed.", "Marked %d events reviewed.", count) % count
            + " To undo, filter by Reviewed and use “Reopen selected events”.",
            messages.SUCCESS,
        )

    @admin.action(description="Reopen selected events (undo Mark reviewed)", permissions=["review"])
    def reopen(self, request, queryset):
        reviewed = queryset.filter(
            tenant__in=tenants_editable_by(request.user), reviewed_at__isnull=False
        )
        events = list(reviewed.select_related("tenant"))
        count = governance_events_reopen(events=reviewed)
        admin_history_log(request, events, "Reopened.")
        self.message_user(
            request,
            ngettext("Reopened %d event.", "Reopened %d events.", count) % count,
            messages.SUCCESS,
        )


@admin.register(ModelPrice)
class ModelPriceAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["model", "tenant", "input_usd_per_million", "output_usd_per_million"]
    list_filter = [("tenant", RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant"]
    search_fields = ["model"]

    def changelist_view(self, request, extra_context=None):
        defaults = ", ".join(
            f"{model} ${prices[0]}/${prices[1]}" for model, prices in DEFAULT_PRICES.items()
        )
        extra_context = {
            **(extra_context or {}),
            "subtitle": f"Per million input/output tokens. Without a row here: {defaults}.",
        }
        return super().changelist_view(request, extra_context)
