"""Building a skill's bundle from the database: the tenant's context and knowledge file hashes
are read here, the hub's action schema from its committed file, then the pure transpiler does
the rest."""

from claresia.models import ArchetypeGroup, Tenant
from connectors.selectors import connector_app_id
from skills.hub_action import hub_action_schema
from skills.models import KnowledgeFile, Skill
from skills.targets.common import TenantContext
from skills.targets.custom_gpt.transpiler import Bundle, KnowledgeRef, skill_bundle


def tenant_context(tenant: Tenant, *, app_id: str | None = None) -> TenantContext:
    """`app_id`: the connector's, when the caller has read it already (else it is read)."""
    archetypes = dict(
        ArchetypeGroup.objects.filter(tenant=tenant).values_list("slug", "workspace_group_id")
    )
    return TenantContext(
        slug=tenant.slug,
        hub_base=tenant.hub_base,
        archetypes=archetypes,
        app_id=connector_app_id(tenant=tenant) if app_id is None else app_id,
    )


def knowledge_refs(skills: list[Skill]) -> dict[int, list[KnowledgeRef]]:
    """The knowledge files of many skills in one query, content left in the database."""
    refs: dict[int, list[KnowledgeRef]] = {skill.pk: [] for skill in skills}
    rows = KnowledgeFile.objects.filter(skill__in=skills).values_list(
        "skill_id", "path", "sha256", "size", "media_type"
    )
    for skill_pk, path, sha256, size, media_type in rows:
        refs[skill_pk].append(KnowledgeRef(path, sha256, size, media_type))
    return refs


def skill_bundle_build(
    *, skill: Skill, context: TenantContext | None = None, refs: list[KnowledgeRef] | None = None
) -> Bundle:
    """The skill's bundle; raises BundleError naming what blocks it."""
    context = context or tenant_context(skill.tenant)
    if refs is None:
        refs = knowledge_refs([skill])[skill.pk]
    return skill_bundle(skill.ir, tenant=context, action_schema=hub_action_schema(), knowledge=refs)
