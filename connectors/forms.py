from django import forms
from django.core.exceptions import ValidationError

from connectors.models import Connector
from connectors.services import validate_api_key, validate_app_id, validate_workspace_id

KEY_HELP = (
    "Write-only: the key is encrypted at rest and never shown again, only as …abcd. "
    "Leave blank to keep the stored key."
)


class ConnectorForm(forms.ModelForm):
    """The admin's *Connect LLM* form. The key field never renders its value back."""

    api_key = forms.CharField(
        label="Compliance API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=KEY_HELP,
    )

    workspace_id = forms.CharField(
        label="ChatGPT workspace id",
        required=False,
        strip=True,
        help_text=Connector._meta.get_field("workspace_id").help_text,
        widget=forms.TextInput(attrs={"placeholder": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}),
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
        if self.instance.pk is None:
            self.fields["api_key"].help_text = KEY_HELP.rsplit(" Leave", 1)[0]

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
