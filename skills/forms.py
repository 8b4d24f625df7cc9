from django import forms

from claresia.models import Tenant
from skills.ir.importers import upload_size_problem


class SkillImportForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none())
    file = forms.FileField(
        help_text="A .zip of skill folders, a skill.yaml / .json IR file, or a SKILL.md.",
        error_messages={
            "required": "Choose a file to import: a .zip of skill folders, a skill.yaml or "
            ".json file, or a SKILL.md.",
            "empty": "The file is empty: choose the .zip, .yaml, .json or SKILL.md to import.",
        },
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants

    def clean_file(self):
        # Refused on its size before the view reads it into memory.
        upload = self.cleaned_data["file"]
        if problem := upload_size_problem(upload.name, upload.size):
            raise forms.ValidationError(problem)
        return upload
