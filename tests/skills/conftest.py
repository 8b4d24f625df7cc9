"""Fixtures for the skills tests: tenants with archetype groups and skills imported from the
fixed IR folder (`helpers.py`)."""

import pytest

from claresia.models import ArchetypeGroup
from connectors.plugin_remote import plugin_remote_configure
from skills.ir.importers import SkillSource, sources_from_path
from skills.models import Publication
from skills.services.imports import skills_import
from skills.targets.custom_gpt.drift import skills_drift_check
from skills.targets.custom_gpt.publish import skills_publish
from tests.skills.gitserver import TOKEN, GitServer, bare_repository
from tests.skills.helpers import SKILL_FOLDER, gpt_edited_in_chatgpt, minimal_ir


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


@pytest.fixture
def remotes(tmp_path, settings):
    """A smart-HTTP git server (git http-backend behind a token check) and the tenant cache."""
    root = tmp_path / "remotes"
    root.mkdir()
    settings.PLUGIN_REPOS_DIR = tmp_path / "cache"
    settings.PLUGIN_GIT_TIMEOUT = 20
    server = GitServer(root, TOKEN)
    yield server
    server.stop()


@pytest.fixture
def bare(remotes, tenant):
    """`dainese`'s empty marketplace repository on disk, configured as its remote over HTTP."""
    path = bare_repository(remotes)
    plugin_remote_configure(tenant=tenant, url=remotes.url("dainese.git"), token=TOKEN)
    return path


@pytest.fixture
def two_skills(imported_skill, tenant):
    report = skills_import(
        tenant=tenant, sources=[SkillSource(origin="prd", document=minimal_ir())]
    )
    assert report.ok, report.refused
    return ["incident-postmortem", "prd-review"]


@pytest.fixture
def published(sandbox, connector, imported_skill) -> Publication:
    """The fixture skill published to the OpenAI sandbox as a GPT."""
    report = skills_publish(tenant=connector.tenant)
    assert report.ok, report.outcomes
    return Publication.objects.get(skill=imported_skill)


@pytest.fixture
def drifted(sandbox, published) -> Publication:
    """The published GPT edited in ChatGPT, and the drift check that found it."""
    gpt_edited_in_chatgpt(sandbox, published.gpt_id)
    skills_drift_check(tenant=published.skill.tenant)
    published.refresh_from_db()
    return published
