"""What the skill's change page shows under the skill: its publications (with drift), its
knowledge files and its version history, all read only."""

from django.contrib import admin

from skills.models import KnowledgeFile, Publication, SkillVersion


def drift_text(publication: Publication | None) -> str:
    """What the last drift check found, in one line."""
    if publication is None or not publication.published_sha256:
        return ""
    text = publication.get_drift_status_display()
    details = [f"{d['field']}: {d['detail']}" for d in publication.drift]
    if publication.drift_error:
        details.append(publication.drift_error)
    return text + (f" ({'; '.join(details)})" if details else "")


class KnowledgeFileInline(admin.TabularInline):
    model = KnowledgeFile
    fields = ["path", "media_type", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PublicationInline(admin.TabularInline):
    model = Publication
    fields = [
        "target",
        "status",
        "gpt_id",
        "published_sha256",
        "published_at",
        "error",
        "drift_summary",
        "drift_checked_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Drift")
    def drift_summary(self, obj: Publication) -> str:
        return drift_text(obj) or "—"


class SkillVersionInline(admin.TabularInline):
    model = SkillVersion
    fields = ["version", "imported_at", "published_bundle_sha256", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "version history"

    def has_add_permission(self, request, obj=None):
        return False
