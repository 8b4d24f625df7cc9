"""Fixtures for the skills tests: a fixed IR folder, tenants with archetype groups, helpers."""

import copy
import io
import zipfile
from pathlib import Path

import pytest
import yaml

from claresia.models import ArchetypeGroup
from skills.ir.importers import sources_from_path
from skills.services.imports import skills_import

FIXTURES = Path(__file__).parent / "fixtures"
SKILL_FOLDER = FIXTURES / "incident-postmortem"


def fixture_ir() -> dict:
    return yaml.safe_load((SKILL_FOLDER / "skill.yaml").read_text())


def minimal_ir(skill_id: str = "prd-review", **changes) -> dict:
    document = {
        "ir_version": 1,
        "id": skill_id,
        "name": "PRD Review",
        "version": "1.0.0",
        "description": "Reviews a product requirements document.",
        "instructions": "You review PRDs.",
    }
    document.update(changes)
    return document


def write_skill(folder: Path, document: dict, files: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "skill.yaml").write_text(yaml.safe_dump(copy.deepcopy(document)))
    for path, content in (files or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)
    return folder


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def archetypes(tenant):
    return [
        ArchetypeGroup.objects.create(
            tenant=tenant, slug="engineering-managers", name="EMs", workspace_group_id="grp_em"
        ),
        ArchetypeGroup.objects.create(
            tenant=tenant, slug="sre", name="SRE", workspace_group_id="grp_sre"
        ),
    ]


@pytest.fixture
def imported_skill(tenant, archetypes):
    report = skills_import(tenant=tenant, sources=sources_from_path(SKILL_FOLDER))
    assert report.ok, report.refused
    return tenant.skills.get(skill_id="incident-postmortem")


@pytest.fixture
def other_skill(other_tenant):
    ArchetypeGroup.objects.create(
        tenant=other_tenant, slug="sre", name="SRE", workspace_group_id="grp_o"
    )
    ArchetypeGroup.objects.create(
        tenant=other_tenant, slug="engineering-managers", name="EM", workspace_group_id="grp_o2"
    )
    skills_import(tenant=other_tenant, sources=sources_from_path(SKILL_FOLDER))
    return other_tenant.skills.get()
