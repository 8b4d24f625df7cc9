"""The ChatGPT Enterprise connector of a tenant: org id, encrypted Compliance key, status."""

from django.core.validators import RegexValidator
from django.db import models

from claresia.models import Tenant
from connectors.crypto import secret_decrypt, secret_encrypt, secret_mask

org_id_validator = RegexValidator(
    r"^org-[A-Za-z0-9_-]{1,64}$",
    "An OpenAI organization id looks like org-… with letters, digits, _ and - only "
    "(platform.openai.com → Settings → Organization → General).",
)

# An Apps SDK / MCP app's id as the Logs Platform's APP_LOG carries it and a plugin's `.app.json`
# names it (chatgpt-admin-api.md, "Compliance Logs Platform" → APP_LOG; "Plugins, the successor").
app_id_validator = RegexValidator(
    r"^asdk_app_[A-Za-z0-9_-]{1,55}$",
    "A ChatGPT app id looks like asdk_app_… (letters, digits, _ and - after the prefix), as "
    "ChatGPT shows it for the Claresia app a workspace admin added.",
)


class Connector(models.Model):
    class Provider(models.TextChoices):
        OPENAI_CHATGPT_ENTERPRISE = "openai-chatgpt-enterprise", "OpenAI ChatGPT Enterprise"

    class PublishMode(models.TextChoices):
        AUTOMATED = "automated", "Automated (OpenAI admin API)"
        MANUAL_EXPORT = "manual_export", "By hand, from the Export page (a ZIP of steps per GPT)"

    class Status(models.TextChoices):
        NEVER_TESTED = "never_tested", "Never tested"
        CONNECTED = "connected", "Connected"
        FAILED = "failed", "Failed"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="connector")
    provider = models.CharField(
        max_length=32, choices=Provider.choices, default=Provider.OPENAI_CHATGPT_ENTERPRISE
    )
    organization_id = models.CharField(
        "OpenAI organization id", max_length=80, validators=[org_id_validator]
    )
    # The ChatGPT workspace the GPT (and plugin) inventory is read from: optional, since the
    # org id already reaches the Logs Platform (chatgpt-admin-api.md → Credentials and errors).
    workspace_id = models.UUIDField(
        "ChatGPT workspace id",
        null=True,
        blank=True,
        help_text=(
            "The ChatGPT Enterprise workspace's id, a UUID, as the ChatGPT Admin Console shows "
            "it. Optional: needed to read the workspace's GPTs back."
        ),
    )
    # The Claresia app as the workspace registered it (ChatGPT → Apps): optional; when set, the
    # tenant's plugin names it in `.app.json` beside `.mcp.json`, and APP_LOG lines are matched by
    # it. Blank until the admin sets it or the poll learns it from the first call to the app by its
    # configured name (connectors.services.connector_app_id_learn).
    app_id = models.CharField(
        "ChatGPT app id",
        max_length=64,
        blank=True,
        default="",
        validators=[app_id_validator],
        help_text=(
            "Optional: the asdk_app_… id ChatGPT gave the Claresia app when the workspace admin "
            "added it (its /mcp URL). The plugin then names this app in .app.json. Left blank, "
            "Claresia learns it from the first APP_LOG call to the app by its name."
        ),
    )
    # Never shown, never exported: only `api_key_last4` is displayed (as …abcd).
    api_key_ciphertext = models.TextField(editable=False)
    api_key_last4 = models.CharField(max_length=4, editable=False)
    publish_mode = models.CharField(
        max_length=16, choices=PublishMode.choices, default=PublishMode.AUTOMATED
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEVER_TESTED)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The last Test connection's checklist, one object per line (connectors/connection_checks.py).
    connection_checks = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ChatGPT Enterprise connector"

    def __str__(self) -> str:
        return f"{self.get_provider_display()} — {self.tenant.slug}"

    def set_api_key(self, raw_key: str) -> None:
        self.api_key_ciphertext = secret_encrypt(raw_key)
        self.api_key_last4 = raw_key[-4:]

    @property
    def api_key(self) -> str:
        return secret_decrypt(self.api_key_ciphertext)

    @property
    def api_key_masked(self) -> str:
        return secret_mask(self.api_key_last4)


class PluginRemote(models.Model):
    """The git remote of a tenant's plugin marketplace (`chatgpt-admin-api.md`, "Plugins, the
    successor"): an HTTPS URL and the token that may push to it, encrypted like the Compliance
    key and shown only as its last four characters."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="plugin_remote")
    url = models.URLField("repository URL", max_length=500)
    # Never shown, never exported, never on a command line: only `token_last4` is displayed.
    token_ciphertext = models.TextField(editable=False, blank=True)
    token_last4 = models.CharField(max_length=4, editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "plugin marketplace remote"

    def __str__(self) -> str:
        return f"{self.tenant.slug} → {self.url}"

    def set_token(self, raw_token: str) -> None:
        self.token_ciphertext = secret_encrypt(raw_token)
        # The mask shows the last 4 only of a token long enough that they are a small part of it.
        self.token_last4 = raw_token[-4:] if len(raw_token) >= 16 else ""

    @property
    def token(self) -> str:
        return secret_decrypt(self.token_ciphertext) if self.token_ciphertext else ""

    @property
    def token_masked(self) -> str:
        return secret_mask(self.token_last4)
