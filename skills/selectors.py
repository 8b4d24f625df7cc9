"""Reads of a tenant's skills for pages: the caller picked the tenant through claresia.scoping."""

from claresia.models import Tenant
from claresia.scoping import scope_to_user
from skills.limits import gpt_limit_warnings
from skills.models import Publication, PublishRun, Skill


def skill_warnings(skill: Skill) -> list[str]:
    """The platform limits the skill exceeds (skills.limits), shown beside it. An IR that is not
    a whole skill (written other than by an import) has none to show: its publish says why."""
    try:
        return gpt_limit_warnings(skill.ir, gpt_name=skill.gpt_name)
    except (KeyError, TypeError, AttributeError):
        return []


def skill_rows(*, tenant: Tenant) -> list[dict]:
    """The tenant's skills by id, each with its GPT publication (None when there is none) and
    the platform limits it exceeds."""
    skills = list(Skill.objects.filter(tenant=tenant).select_related("tenant").order_by("skill_id"))
    publications = {
        p.skill_id: p
        for p in Publication.objects.filter(skill__in=skills, target=Publication.Target.OPENAI_GPT)
    }
    return [
        {
            "skill": skill,
            "publication": publications.get(skill.pk),
            "warnings": skill_warnings(skill),
        }
        for skill in skills
    ]


def publication_counts(rows: list[dict]) -> dict[str, int]:
    """How many of `skill_rows` have each publication status, and how many were never
    published ("never")."""
    counts = {status: 0 for status in (*Publication.Status.values, "never")}
    for row in rows:
        counts[row["publication"].status if row["publication"] else "never"] += 1
    return counts


def skill_of(*, tenant: Tenant, skill_id: str) -> Skill | None:
    return Skill.objects.filter(tenant=tenant, skill_id=skill_id).first()


def skill_pks_by_id(*, tenant: Tenant) -> dict[str, int]:
    """skill id → Skill pk for the tenant: how a telemetry row names the skill it counts."""
    return dict(Skill.objects.filter(tenant=tenant).values_list("skill_id", "pk"))


def publish_run_for_user(*, user, run_id: int) -> PublishRun | None:
    """The publish run, when it is of a tenant the user may see (claresia.scoping)."""
    runs = scope_to_user(PublishRun.objects.select_related("tenant"), user)
    return runs.filter(pk=run_id).first()


def gpt_publications(*, tenant: Tenant) -> list[Publication]:
    """The tenant's published GPTs (with a GPT id), each with its skill."""
    return list(
        Publication.objects.filter(skill__tenant=tenant, status=Publication.Status.PUBLISHED)
        .exclude(gpt_id="")
        .select_related("skill")
    )


def skill_for_hub(*, tenant_id: int, skill_id: str, annotations: dict) -> Skill | None:
    """The tenant's skill for a hub record, in one query with the caller's `annotations` (the
    hub's price for the model). The IR and description are read only when used (deferred)."""
    try:
        return (
            Skill.objects.defer("ir", "description")
            .annotate(**annotations)
            .get(tenant_id=tenant_id, skill_id=skill_id)
        )
    except Skill.DoesNotExist:
        return None


def skill_ids(*, tenant: Tenant) -> list[str]:
    return list(Skill.objects.filter(tenant=tenant).values_list("skill_id", flat=True))


def skills_of(*, tenant: Tenant) -> list[Skill]:
    return list(Skill.objects.filter(tenant=tenant).order_by("skill_id"))


def publish_runs_recent(*, tenant: Tenant, limit: int) -> list[PublishRun]:
    return list(PublishRun.objects.filter(tenant=tenant)[:limit])
