from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from claresia.admin_history import admin_history_log
from claresia.formatting import short_datetime, truncated
from claresia.scoping import TenantScopedAdminMixin, scope_to_user, tenants_editable_by
from connectors.connection_checks import BannerLevel
from connectors.crypto import SecretUnreadable
from connectors.forms import ConnectorForm
from connectors.models import Connector
from connectors.selectors import connector_banner, connector_test_message
from connectors.services import connector_connect, connector_test_connection, connectors_reencrypt

GUIDANCE = """
<p><strong>Connect your ChatGPT Enterprise workspace.</strong> ChatGPT Enterprise (or Edu) is
required: the Compliance API does not exist on Plus or Team.</p>
<ol>
  <li><strong>Admin key</strong>: a ChatGPT workspace owner or admin opens the ChatGPT
      <strong>Admin Console → Credentials → Admin keys</strong> and creates a key with
      <strong>Restricted</strong> permissions: read access to <strong>compliance logs</strong>,
      <strong>GPTs</strong> and <strong>plugins</strong>, named <code>claresia-{tenant_slug}</code>.
      ChatGPT shows the key <strong>once</strong>: paste it below. (An older Enterprise Compliance
      API key works the same way.)</li>
  <li><strong>OpenAI organization id</strong> (<code>org-…</code>): on platform.openai.com →
      Settings → Organization → General. With the key, it reads calls to the Claresia app and
      costs.</li>
  <li><strong>ChatGPT workspace id</strong> (a UUID): the workspace's id in the ChatGPT Admin
      Console. It is what reads your people's use of the skills, and the workspace's GPTs and
      plugins back; without it Claresia sees app calls only.</li>
  <li>Save, then press <strong>Test connection</strong>: one line per thing the key should
      reach, each saying what works and, when it fails, what to do and what it switches off.</li>
</ol>
"""


@admin.register(Connector)
class ConnectorAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    form = ConnectorForm
    # Fits 1280 px: the provider is always ChatGPT Enterprise and the publish mode is a filter.
    list_display = ["tenant_name", "status_badge", "organization", "key", "last_tested"]
    list_filter = ["status", "publish_mode"]
    search_fields = ["tenant__slug", "tenant__name", "organization_id"]
    list_select_related = ["tenant"]
    actions = ["test_connection_selected", "reencrypt_selected"]
    change_form_template = "admin/connectors/connector/change_form.html"

    @admin.display(description="Tenant", ordering="tenant__name")
    def tenant_name(self, obj: Connector) -> str:
        return truncated(obj.tenant.name, 28)

    @admin.display(description="Organization", ordering="organization_id")
    def organization(self, obj: Connector) -> str:
        return truncated(obj.organization_id, 24)

    @admin.display(description="Last tested", ordering="last_tested_at")
    def last_tested(self, obj: Connector) -> str:
        return short_datetime(obj.last_tested_at)

    @admin.display(description="Stored key")
    def key(self, obj: Connector) -> str:
        return obj.api_key_masked

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Connector) -> str:
        colour = {
            Connector.Status.CONNECTED: "#1a7f37",
            Connector.Status.FAILED: "#cf222e",
        }.get(obj.status, "#6e7781")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="Checks")
    def checklist(self, obj: Connector) -> str:
        return (
            render_to_string(
                "command_center/_connection_checks.html", {"checks": obj.connection_checks}
            )
            or "—"
        )

    @admin.display(description="Last error")
    def message(self, obj: Connector) -> str:
        """What the last test said beyond its checklist: a failed line reads once, there."""
        return connector_test_message(obj) or "—"

    def get_fieldsets(self, request, obj=None):
        connect = (
            "Connect LLM",
            {
                "fields": [
                    "tenant",
                    "provider",
                    "organization_id",
                    "workspace_id",
                    "app_id",
                    "api_key",
                    "publish_mode",
                    "app_id",
                ],
                "description": GUIDANCE,
            },
        )
        if obj is None:
            return [connect]
        connect[1]["fields"] = [
            "tenant",
            "provider",
            "organization_id",
            "workspace_id",
            "app_id",
            "key",
            "api_key",
            "publish_mode",
            "app_id",
        ]
        return [
            connect,
            (
                "Connection",
                {
                    "fields": ["status_badge", "last_tested_at", "checklist", "message"],
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["tenant", "key", "status_badge", "last_tested_at", "checklist", "message"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant":
            # One connector per tenant: offer only tenants that have none yet.
            kwargs["queryset"] = tenants_editable_by(request.user).filter(connector__isnull=True)
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        connector = connector_connect(
            tenant=obj.tenant,
            organization_id=form.cleaned_data["organization_id"],
            api_key=form.cleaned_data["api_key"],
            publish_mode=form.cleaned_data["publish_mode"],
            workspace_id=form.cleaned_data.get("workspace_id") or "",
            app_id=form.cleaned_data.get("app_id") or "",
        )
        obj.pk = connector.pk

    def log_addition(self, request, obj, message):
        (entry,) = admin_history_log(
            request,
            [obj],
            f"Connected LLM: organization {obj.organization_id}, key stored encrypted.",
            flag=ADDITION,
        )
        return entry

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Connect LLM"}
        return super().add_view(request, form_url, extra_context)

    # ---- Test connection: a POST-only button on the connector page ------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="connectors_connector_test_connection",
            ),
            *super().get_urls(),
        ]

    def test_connection_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connector = get_object_or_404(
            scope_to_user(Connector.objects.select_related("tenant"), request.user), pk=pk
        )
        if not self.has_change_permission(request, connector):
            raise PermissionDenied
        unsaved = self._unsaved_fields(request, connector)
        if unsaved:
            # The button submits the change form, so what was typed arrives here. Testing it
            # would show a status the stored connector does not have: refuse, and say why.
            self.message_user(
                request,
                f"Save first: the {' and the '.join(unsaved)} you typed "
                f"{'is' if len(unsaved) == 1 else 'are'} not saved. Test connection tests "
                "the saved connector: press “Save and continue editing”, then Test connection.",
                messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:connectors_connector_change", args=[pk]))
        self._test(request, connector)
        return HttpResponseRedirect(reverse("admin:connectors_connector_change", args=[pk]))

    @staticmethod
    def _unsaved_fields(request, connector: Connector) -> list[str]:
        """What the change form holds that the stored connector does not (empty when the
        button is posted on its own)."""
        unsaved = []
        if request.POST.get("api_key", "").strip():
            unsaved.append("key")
        typed_org = request.POST.get("organization_id")
        if typed_org is not None and typed_org.strip() != connector.organization_id:
            unsaved.append("organization id")
        typed_workspace = request.POST.get("workspace_id")
        stored_workspace = str(connector.workspace_id) if connector.workspace_id else ""
        if typed_workspace is not None and typed_workspace.strip().lower() != stored_workspace:
            unsaved.append("workspace id")
        return unsaved

    def _test(self, request, connector: Connector) -> None:
        """Test one connector, then report it to the user and in the connector's history."""
        connector = connector_test_connection(connector=connector)
        said = connector_banner(connector)
        if said.level == BannerLevel.CONNECTED:
            outcome = f"connected to {connector.organization_id}."
            self.message_user(request, f"{connector.tenant.slug}: {outcome}", messages.SUCCESS)
        elif said.level == BannerLevel.PARTLY:
            outcome = f"{said.text}."
            self.message_user(request, f"{connector.tenant.slug}: {outcome}", messages.WARNING)
        else:
            outcome = f"failed: {connector.last_error}"
            # The reasons are on the change page once (checklist or Last error), not here again.
            self.message_user(
                request,
                f"{connector.tenant.slug}: {said.text}; the reasons are on its page.",
                messages.ERROR,
            )
        admin_history_log(request, [connector], f"Tested the connection: {outcome}")

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection_selected(self, request, queryset):
        for connector in queryset.select_related("tenant"):
            self._test(request, connector)

    @admin.action(description="Re-encrypt keys under the newest key", permissions=["change"])
    def reencrypt_selected(self, request, queryset):
        try:
            count = connectors_reencrypt(queryset=queryset)
        except SecretUnreadable as exc:
            self.message_user(request, f"{exc}; nothing was changed.", messages.ERROR)
            return
        admin_history_log(
            request, queryset.select_related("tenant"), "Re-encrypted the key under the newest key."
        )
        self.message_user(
            request,
            ngettext("Re-encrypted %d key.", "Re-encrypted %d keys.", count) % count,
            messages.SUCCESS,
        )
