"""`skills_import`: validated IR sources become skills, all-or-nothing per skill
(`operations.md` → import_skills); a newer `version` updates the skill and keeps its history."""

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction
from django.db.models import Q

from claresia.models import Tenant
from skills.ir.importers import SkillSource, media_type_for
from skills.ir.validation import ir_normalized, ir_validate
from skills.limits import gpt_limit_warnings
from skills.models import KnowledgeFile, Skill, SkillVersion

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")


class ImportOutcome(StrEnum):
    """What an import did to one skill (`import_skills` prints it)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ImportedSkill:
    skill_id: str
    origin: str
    outcome: ImportOutcome
    version: str
    previous_version: str = ""
    # Platform limits the skill exceeds (skills.limits): it is imported, and warned about.
    warnings: tuple[str, ...] = ()


@dataclass
class ImportReport:
    imported: list[ImportedSkill] = field(default_factory=list)
    refused: list[tuple[str, list[str]]] = field(default_factory=list)  # (origin, problems)

    @property
    def ok(self) -> bool:
        return not self.refused


def version_key(version: str) -> tuple:
    """Semantic-version order: a pre-release sorts before its release."""
    match = SEMVER.match(version)
    if not match:
        return (-1,)
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def _source_problems(source: SkillSource) -> list[str]:
    if source.problems:
        return list(source.problems)
    problems = ir_validate(source.document)
    if problems:
        return problems
    for index, item in enumerate(source.document.get("knowledge") or []):
        if item["path"] not in source.files:
            problems.append(f"knowledge[{index}].path: {item['path']} is not in the skill folder")
    return problems


def _knowledge_rows(document: dict, files: dict[str, bytes]) -> list[KnowledgeFile]:
    return [
        KnowledgeFile(
            path=item["path"],
            sha256=hashlib.sha256(files[item["path"]]).hexdigest(),
            size=len(files[item["path"]]),
            media_type=media_type_for(item["path"]),
            content=files[item["path"]],
        )
        for item in document.get("knowledge") or []
    ]


def _same_content(skill: Skill, document: dict, rows: list[KnowledgeFile]) -> bool:
    stored = {(k.path, k.sha256) for k in skill.knowledge_files.only("path", "sha256")}
    return skill.ir == document and stored == {(k.path, k.sha256) for k in rows}


@transaction.atomic
def _import_one(*, tenant: Tenant, source: SkillSource) -> ImportedSkill:
    document = ir_normalized(source.document)
    rows = _knowledge_rows(document, source.files)
    stored = Skill.objects.select_for_update().filter(tenant=tenant, skill_id=document["id"])
    skill = stored.first()
    previous = skill.version if skill else ""
    if skill is None:
        skill = Skill(tenant=tenant, skill_id=document["id"])
    skill.tenant = tenant  # the GPT name is the tenant's: no query for it
    warnings = tuple(gpt_limit_warnings(document, gpt_name=skill.gpt_name))
    if previous:
        if _same_content(skill, document, rows):
            return ImportedSkill(
                document["id"],
                source.origin,
                ImportOutcome.UNCHANGED,
                skill.version,
                previous,
                warnings,
            )
        if version_key(document["version"]) <= version_key(skill.version):
            raise ValueError(
                f"version: {document['version']} is not newer than the stored {skill.version}; "
                "raise the version to update the skill"
            )
    skill.name = document["name"]
    skill.version = document["version"]
    skill.description = document["description"]
    skill.ir = document
    skill.save()
    skill.knowledge_files.all().delete()
    for row in rows:
        row.skill = skill
    KnowledgeFile.objects.bulk_create(rows)
    SkillVersion.objects.create(skill=skill, version=skill.version, ir=document)
    outcome = ImportOutcome.UPDATED if previous else ImportOutcome.CREATED
    return ImportedSkill(document["id"], source.origin, outcome, skill.version, previous, warnings)


def gpt_name_owner(*, tenant: Tenant, skill_id: str) -> Skill | None:
    """Another tenant's skill whose GPT name `claresia-{slug}-{skill}` would be this one's
    (`alpha` + `eu-x` and `alpha-eu` + `x`): a GPT name must map to one (tenant, skill)."""
    name = f"{tenant.slug}-{skill_id}"
    same_name = Q(pk__in=[])
    for at, char in enumerate(name):
        if char == "-":
            same_name |= Q(tenant__slug=name[:at], skill_id=name[at + 1 :])
    return Skill.objects.filter(same_name).exclude(tenant=tenant).select_related("tenant").first()


def skills_import(*, tenant: Tenant, sources: list[SkillSource]) -> ImportReport:
    """Import each source in its own transaction; a refused source changes nothing."""
    report = ImportReport()
    seen: dict[str, str] = {}
    for source in sources:
        problems = _source_problems(source)
        skill_id = (source.document or {}).get("id")
        if not problems and skill_id in seen:
            problems = [f"id: {skill_id!r} is also defined by {seen[skill_id]}"]
        if not problems and (owner := gpt_name_owner(tenant=tenant, skill_id=skill_id)):
            problems = [
                f"id: the GPT name claresia-{tenant.slug}-{skill_id} is already tenant "
                f"{owner.tenant.slug}'s skill {owner.skill_id}: choose another skill id"
            ]
        if problems:
            report.refused.append((source.origin, problems))
            continue
        seen[skill_id] = source.origin
        try:
            report.imported.append(_import_one(tenant=tenant, source=source))
        except ValueError as exc:
            report.refused.append((source.origin, [str(exc)]))
    return report
