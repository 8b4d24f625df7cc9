from django import forms

from claresia.models import Tenant


class SkillImportForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none())
    file = forms.FileField(
        help_text="A .zip of skill folders, a skill.yaml / .json IR file, or a SKILL.md."
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
