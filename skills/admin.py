from django.contrib import admin

from claresia.scoping import TenantScopedAdminMixin
from skills.models import Skill


@admin.register(Skill)
class SkillAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["skill_id", "name", "version", "tenant", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["skill_id", "name", "description"]
    list_select_related = ["tenant"]
    readonly_fields = ["ir", "created_at", "updated_at"]
