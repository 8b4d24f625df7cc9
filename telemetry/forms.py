from django import forms

from claresia.models import Tenant

# ---- ingest (seed Part 4) -------------------------------------------------------------------


class AuditExportUploadForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none())
    file = forms.FileField(
        label="Audit export",
        help_text="The per-user audit export, as CSV (with a header row) or JSONL.",
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
