from django import forms
from django.core.exceptions import ValidationError

from connectors.models import Connector
from connectors.services import validate_api_key, validate_app_id, validate_workspace_id

KEY_HELP = "Write-only: the key is encrypted at rest and never shown again, only as …abcd."
KEEP_HELP = " Leave blank to keep the stored key ({masked})."
# What each publish mode means for a real workspace (chatgpt-admin-api.md → GPT inventory: no
# create, update or share endpoint); the form starts on the one a real workspace can use.
PUBLISH_MODE_CHOICES = [
    (
        Connector.PublishMode.MANUAL_EXPORT,
        "Build each GPT by hand from its export (real ChatGPT Enterprise workspaces)",
    ),
    (
        Connector.PublishMode.AUTOMATED,
        "Automated (only the OpenAI sandbox: OpenAI publishes no API that creates a GPT)",
    ),
]


class ConnectorForm(forms.ModelForm):
    """The admin's *Connect LLM* form. The key field never shows a stored key; a key pasted
    into a form refused for another field is kept in it (OpenAI shows a new key only once)."""

    api_key = forms.CharField(
        label="Admin key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
        help_text=KEY_HELP,
    )

    workspace_id = forms.CharField(
        label="ChatGPT workspace id",
        required=False,
        strip=True,
        help_text=Connector._meta.get_field("workspace_id").help_text,
        # Wide enough for the whole UUID (36 characters), never wider than a phone.
        widget=forms.TextInput(
            attrs={
                "placeholder": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
                "style": "width: 38ch; max-width: 100%",
                "spellcheck": "false",
            }
        ),
    )

    class Meta:
        model = Connector
        fields = [
            "tenant",
            "provider",
            "organization_id",
            "workspace_id",
            "app_id",
            "api_key",
            "publish_mode",
        ]
        widgets = {"provider": forms.RadioSelect}
        help_texts = {
            "app_id": (
                "Optional: the Claresia app's id in ChatGPT (asdk_app_…). Blank: learned from "
                "the first APP_LOG call to the app by its name."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.api_key_last4:
            self.fields["api_key"].label = "Replace the key"
            self.fields["api_key"].help_text = KEY_HELP + KEEP_HELP.format(
                masked=self.instance.api_key_masked
            )
        if "publish_mode" in self.fields:
            self.fields["publish_mode"].choices = PUBLISH_MODE_CHOICES
            if self.instance.pk is None:
                self.fields["publish_mode"].initial = Connector.PublishMode.MANUAL_EXPORT

    def clean_api_key(self) -> str | None:
        raw = self.cleaned_data.get("api_key") or ""
        if not raw and self.instance.pk is not None:
            return None  # keep the stored key
        try:
            return validate_api_key(raw)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["api_key"]) from None

    def clean_workspace_id(self):
        try:
            return validate_workspace_id(self.cleaned_data.get("workspace_id") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["workspace_id"]) from None

    def clean_app_id(self) -> str:
        try:
            return validate_app_id(self.cleaned_data.get("app_id") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["app_id"]) from None
