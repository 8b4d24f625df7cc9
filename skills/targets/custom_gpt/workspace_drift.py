"""Distribution and drift on the real API: per skill, is its GPT in the tenant's ChatGPT
workspace, who owns it, who sees it, when its config last changed, whether its action can reach
the tenant's hub, and how its exposed fields compare with the bundle Claresia gave
(`shared/contracts/chatgpt-admin-api.md` → GPT inventory).

"The bundle Claresia gave" is the last published bundle when the skill was published (the
seed's modelled path, `Publication.published_bundle`), else the bundle an export gives now
(exports are deterministic: the same IR and tenant give the same bundle). Only the fields the
real GPT config exposes are compared: `name` and `description` (verified), `instructions` and
`conversation_starters` when the config carries them (assumed); the rest says "not compared".
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from claresia.models import Tenant
from connectors.openai.client import OpenAIClient
from skills.models import Publication, Skill
from skills.services.bundles import knowledge_refs, skill_bundle_build, tenant_context
from skills.services.inventory import InventoryGPT, gpt_inventory_read, gpts_by_skill
from skills.targets.common import BundleError

VERIFIED_FIELDS = ("name", "description")
ASSUMED_FIELDS = ("instructions", "conversation_starters")
NOT_EXPOSED = ("knowledge files", "function tools", "action schema")
DOMAIN_FIX = (
    "hub records will be missing — add {host} to Workspace settings → GPTs → Actions → "
    "allowed domains"
)


@dataclass
class WorkspaceSkillLine:
    skill_id: str
    gpt_name: str
    found: bool
    gpt_id: str = ""
    owner_email: str = ""
    visibility: str = ""
    config_changed_at: datetime | None = None
    hub_host: str = ""
    action_domains: tuple[str, ...] = ()
    drifted: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def domain_ok(self) -> bool:
        return self.hub_host in self.action_domains

    @property
    def domain_problem(self) -> str:
        if not self.found or self.domain_ok:
            return ""
        return DOMAIN_FIX.format(host=self.hub_host)

    @property
    def in_sync(self) -> bool:
        return self.found and not self.drifted and not self.domain_problem and not self.problem

    def line(self) -> str:
        """`check_drift`'s line: in sync, missing, or drifted: <fields>; and any domain problem."""
        if self.problem:
            return f"{self.skill_id}: {self.problem}"
        if not self.found:
            return f"{self.skill_id}: missing ({self.gpt_name} is not in the workspace)"
        text = f"drifted: {', '.join(self.drifted)}" if self.drifted else "in sync"
        if self.domain_problem:
            text += f"; {self.domain_problem}"
        return f"{self.skill_id}: {text}"


def _given_configs(tenant: Tenant, skills: list[Skill]) -> dict[int, dict | str]:
    """skill pk → the GPTConfig Claresia gave it (or why there is none)."""
    published = {
        p.skill_id: (p.published_bundle or {}).get("config")
        for p in Publication.objects.filter(
            skill__in=skills, target=Publication.Target.OPENAI_GPT
        ).exclude(published_sha256="")
    }
    context = tenant_context(tenant)
    refs = knowledge_refs(skills)
    given: dict[int, dict | str] = {}
    for skill in skills:
        if published.get(skill.pk):
            given[skill.pk] = published[skill.pk]
            continue
        try:
            given[skill.pk] = skill_bundle_build(
                skill=skill, context=context, refs=refs[skill.pk]
            ).config
        except BundleError as exc:
            given[skill.pk] = f"no bundle to compare: {'; '.join(exc.problems)}"
    return given


def compare_config(given: dict, live: dict) -> tuple[list[str], list[str]]:
    """(drifted fields, fields not compared) between the given GPTConfig and the live GPT's
    latest config. Pure."""
    drifted, not_compared = [], []
    for key in VERIFIED_FIELDS + ASSUMED_FIELDS:
        if key not in live:
            not_compared.append(key)
        elif (live.get(key) or "") != (given.get(key) or ""):
            drifted.append(key)
    not_compared.extend(NOT_EXPOSED)
    return drifted, not_compared


def skills_workspace_check(
    *, tenant: Tenant, client: OpenAIClient | None = None
) -> list[WorkspaceSkillLine]:
    """One line per skill of the tenant against its workspace's GPT inventory. Raises
    ConnectorUnavailable (no workspace id or connector) or OpenAIError (the API refused)."""
    gpts: list[InventoryGPT] = gpt_inventory_read(tenant=tenant, client=client)
    found = gpts_by_skill(tenant=tenant, gpts=gpts)
    skills = list(Skill.objects.filter(tenant=tenant).order_by("skill_id"))
    given = _given_configs(tenant, skills)
    hub_host = urlsplit(tenant.hub_base).hostname or ""
    lines = []
    for skill in skills:
        gpt_name = f"claresia-{tenant.slug}-{skill.skill_id}"
        gpt = found.get(skill.skill_id)
        line = WorkspaceSkillLine(
            skill_id=skill.skill_id, gpt_name=gpt_name, found=gpt is not None, hub_host=hub_host
        )
        if gpt is not None:
            line.gpt_id, line.owner_email, line.visibility = gpt.id, gpt.owner_email, gpt.visibility
            line.config_changed_at = gpt.config_changed_at
            line.action_domains = gpt.action_domains
            config = given[skill.pk]
            if isinstance(config, str):
                line.problem = config
            else:
                line.drifted, line.not_compared = compare_config(config, gpt.config)
        lines.append(line)
    return lines


@dataclass(frozen=True)
class SkillVerdict:
    """The one answer Distribution gives per skill to "is its GPT as Claresia gave it?"."""

    status: str  # a Publication.DriftStatus value
    label: str
    differences: tuple[tuple[str, str], ...] = ()  # (what, how it differs)


def skill_verdict(
    publication: Publication | None, line: WorkspaceSkillLine | None
) -> SkillVerdict | None:
    """Both reads of a skill's GPT — the drift check of its last publish and, with a workspace
    id, the workspace's real inventory — as one verdict: in sync only when neither finds a
    difference, the differences of both otherwise. None when nothing was ever compared. Pure."""
    status = Publication.DriftStatus
    published = publication is not None and bool(publication.published_sha256)
    if line is None and not published:
        return None
    differences: list[tuple[str, str]] = []
    verdict = status.IN_SYNC if line is not None else status.NOT_CHECKED
    if published:
        verdict = publication.drift_status or verdict
        differences += [(d["field"], d["detail"]) for d in publication.drift or []]
        if publication.drift_status == status.ERROR and publication.drift_error:
            differences.append(("could not check", publication.drift_error))
    if line is not None:
        if line.problem:
            verdict = status.ERROR
            differences.append(("could not compare", line.problem))
        elif not line.found:
            verdict = status.MISSING
            differences.append(("GPT", f"no GPT named {line.gpt_name} in the workspace"))
        elif line.drifted:
            if verdict != status.MISSING:
                verdict = status.DRIFTED
            differences.append(("in the workspace", f"{', '.join(line.drifted)} differ"))
    return SkillVerdict(status=verdict, label=status(verdict).label, differences=tuple(differences))
