"""Reads of a tenant's skills for pages: the caller picked the tenant through claresia.scoping."""

from claresia.models import Tenant
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


def skill_ids(*, tenant: Tenant) -> list[str]:
    return list(Skill.objects.filter(tenant=tenant).values_list("skill_id", flat=True))


def skills_of(*, tenant: Tenant) -> list[Skill]:
    return list(Skill.objects.filter(tenant=tenant).order_by("skill_id"))


def publish_runs_recent(*, tenant: Tenant, limit: int) -> list[PublishRun]:
    return list(PublishRun.objects.filter(tenant=tenant)[:limit])
