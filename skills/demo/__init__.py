"""The demo tenant's three skills, kept as IR folders beside this file (loaded by `load_demo`)."""

from pathlib import Path

from claresia.models import Tenant
from skills.ir.importers import sources_from_path
from skills.services.imports import ImportReport, skills_import
from skills.services.publish import PublishReport, skills_publish

DEMO_SKILLS_DIR = Path(__file__).resolve().parent
DEMO_SKILL_IDS = ["incident-postmortem", "pipeline-hygiene", "prd-review"]


def demo_skills_import(tenant: Tenant) -> ImportReport:
    sources = []
    for skill_id in DEMO_SKILL_IDS:
        sources += sources_from_path(DEMO_SKILLS_DIR / skill_id)
    report = skills_import(tenant=tenant, sources=sources)
    if not report.ok:
        raise ValueError(f"demo skills refused: {report.refused}")
    return report


def demo_skills_publish(tenant: Tenant) -> PublishReport:
    """Publish the demo skills to the sandbox; unchanged ones make no call."""
    return skills_publish(tenant=tenant, skill_ids=DEMO_SKILL_IDS)
