"""Fixtures for the skills tests: tenants with archetype groups and skills imported from the
fixed IR folder (`helpers.py`)."""

import pytest

from claresia.models import ArchetypeGroup
from skills.ir.importers import sources_from_path
from skills.services.imports import skills_import
from tests.skills.helpers import SKILL_FOLDER


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
    """Overrides the shared `other_skill`: imported from the IR folder, with archetype groups."""
    ArchetypeGroup.objects.create(
        tenant=other_tenant, slug="sre", name="SRE", workspace_group_id="grp_o"
    )
    ArchetypeGroup.objects.create(
        tenant=other_tenant, slug="engineering-managers", name="EM", workspace_group_id="grp_o2"
    )
    skills_import(tenant=other_tenant, sources=sources_from_path(SKILL_FOLDER))
    return other_tenant.skills.get()
