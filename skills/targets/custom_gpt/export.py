"""The manual path (seed Part 3, "For tenants without API publish enabled"): one ZIP per skill
and a `manifest.csv`, from which a workspace builder makes each GPT by hand: ChatGPT offers no
API and no bulk import that creates a GPT (chatgpt-admin-api.md → GPT inventory).

Byte-identical on repeat: entries sorted, fixed timestamps and modes. No secret is written: the
action's bearer token is set by the admin in ChatGPT, as the README inside says.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from claresia.models import Tenant
from skills.hub_action import hub_action_schema
from skills.models import KnowledgeFile, Skill
from skills.services.bundles import knowledge_refs, tenant_context
from skills.targets.common import BundleError
from skills.targets.custom_gpt.transpiler import Bundle, skill_bundle
from skills.zipfiles import deterministic_zip

MANIFEST_COLUMNS = [
    "gpt_name",
    "skill_id",
    "display_name",
    "description",
    "version",
    "bundle_sha256",
    "archetype_groups",
    "workspace_group_ids",
    "file_count",
    "zip_file",
]
# OWASP "CSV Injection": a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")

README = """\
# {name} — Custom GPT bundle for ChatGPT Enterprise

GPT name: `{gpt_name}` · skill `{skill_id}` version {version}
Bundle SHA-256: `{sha256}`

Custom GPTs are retired in affected Enterprise workspaces on 2026-12-11: the same skill is
published as a ChatGPT plugin (Command Center → Distribution → Plugin). Until then, a workspace
builder makes this GPT by hand: ChatGPT has no bulk import and no API that creates a GPT.

## Build this GPT by hand, step by step
In ChatGPT → Explore GPTs → Create → *Configure*:
1. **Name**: `{gpt_name}` exactly — Claresia finds the GPT by this name.
2. **Description**: {description}
3. **Instructions**: paste the whole of `instructions.md`.
4. **Conversation starters**: {starters}
5. **Knowledge**: upload {knowledge}.
6. **Actions → Create new action → Import from URL**: `{hub_base}/hub/v1/schema` (or paste
   `openapi/emit_hub_record.json`); **Authentication**: API Key, **Bearer**, the tenant's hub
   token. The token is not in this bundle: your Claresia administrator mints it (admin → Hub
   tokens → Add) and it is shown only once.
7. **Allowed domain**: a workspace owner adds `{hub_host}` to Workspace settings → GPTs →
   Actions → allowed domains; without it the action never runs and hub records are missing.
8. **Share** with the workspace groups: {groups}. Then *Create*.
9. Check it: Command Center → Distribution shows the GPT as *found*, its action domain, and
   any field that differs from this bundle.
"""


def csv_safe(value: object) -> str:
    """A cell that no spreadsheet will evaluate (OWASP: prefix a single quote)."""
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _json_bytes(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


@dataclass
class ExportResult:
    tenant_slug: str
    bundles: dict[str, bytes] = field(default_factory=dict)  # zip file name → ZIP
    manifest: bytes = b""
    blocked: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def exported(self) -> bool:
        """Whether at least one skill made it into the archive."""
        return bool(self.bundles)

    @property
    def archive_name(self) -> str:
        return f"claresia-{self.tenant_slug}-gpt-export.zip"

    def archive(self) -> bytes:
        """Everything in one ZIP, as the Export page downloads it."""
        return deterministic_zip({**self.bundles, "manifest.csv": self.manifest})


def bundle_zip(bundle: Bundle, skill: Skill, files: dict[str, bytes], hub_base: str) -> bytes:
    groups = ", ".join(f"{slug} (`{group}`)" for slug, group in bundle.archetypes) or "none"
    entries = {
        "gpt.json": _json_bytes(bundle.config),
        "instructions.md": bundle.config["instructions"].encode(),
        "openapi/emit_hub_record.json": _json_bytes(bundle.action_schema),
        "README.md": README.format(
            name=skill.name,
            gpt_name=bundle.name,
            skill_id=skill.skill_id,
            version=skill.version,
            sha256=bundle.sha256,
            groups=groups,
            hub_base=hub_base,
            tenant=skill.tenant.slug,
            description=bundle.config.get("description") or "(none)",
            starters="; ".join(f"“{s}”" for s in bundle.config.get("conversation_starters") or [])
            or "(none)",
            knowledge=", ".join(f"`knowledge/{ref.path}`" for ref in bundle.knowledge)
            or "no files",
            hub_host=urlsplit(hub_base).hostname or hub_base,
        ).encode(),
    }
    for ref in bundle.knowledge:
        entries[f"knowledge/{ref.path}"] = files[ref.path]
    return deterministic_zip(entries)


def skills_export(*, tenant: Tenant, skill_ids: list[str] | None = None) -> ExportResult:
    """Per-skill ZIPs and the manifest; skills that cannot be bundled are listed as blocked."""
    queryset = Skill.objects.filter(tenant=tenant).select_related("tenant").order_by("skill_id")
    if skill_ids:
        queryset = queryset.filter(skill_id__in=skill_ids)
    skills = list(queryset)
    context = tenant_context(tenant)
    refs = knowledge_refs(skills)
    action_schema = hub_action_schema()
    contents: dict[int, dict[str, bytes]] = {skill.pk: {} for skill in skills}
    rows = KnowledgeFile.objects.filter(skill__in=skills).values_list("skill_id", "path", "content")
    for skill_pk, path, content in rows:
        contents[skill_pk][path] = bytes(content)
    result = ExportResult(tenant_slug=tenant.slug)
    manifest = io.StringIO()
    writer = csv.writer(manifest, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for skill in skills:
        try:
            bundle = skill_bundle(
                skill.ir, tenant=context, action_schema=action_schema, knowledge=refs[skill.pk]
            )
        except BundleError as exc:
            result.blocked.append((skill.skill_id, exc.problems))
            continue
        zip_name = f"{bundle.name}.zip"
        result.bundles[zip_name] = bundle_zip(bundle, skill, contents[skill.pk], context.hub_base)
        row = [
            bundle.name,
            skill.skill_id,
            skill.name,
            skill.description,
            skill.version,
            bundle.sha256,
            ";".join(slug for slug, _ in bundle.archetypes),
            ";".join(group for _, group in bundle.archetypes),
            len(bundle.knowledge),
            zip_name,
        ]
        writer.writerow([csv_safe(cell) for cell in row])
    result.manifest = manifest.getvalue().encode("utf-8")
    return result
