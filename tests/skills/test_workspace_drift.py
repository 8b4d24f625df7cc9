"""GPT inventory and drift on the real API (the sandbox's Compliance API over real HTTP):
Distribution's per-skill lines, `check_drift`, and the export's build-by-hand steps."""

import io
import zipfile

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from connectors.sandbox.chatgpt_admin import gpt_object
from connectors.services import connector_connect
from skills.models import Publication, Skill
from skills.services.bundles import skill_bundle_build
from skills.services.workspace_read import workspace_read_refresh
from skills.targets.custom_gpt.export import skills_export
from skills.targets.custom_gpt.workspace_drift import (
    WorkspaceSkillLine,
    skill_verdict,
    skills_workspace_check,
)
from tests.skills.helpers import minimal_ir

pytestmark = pytest.mark.integration

WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
HUB_HOST = "api.claresia.com"


@pytest.fixture
def skill(imported_skill):
    return imported_skill


@pytest.fixture
def workspace(sandbox, tenant, skill):
    """dainese with a workspace id and two skills: `incident-postmortem` (its GPT is put in the
    workspace by each test) and `prd-review`, which nobody built."""
    Skill.objects.create(
        tenant=tenant,
        skill_id="prd-review",
        name="PRD Review",
        version="1.0.0",
        description="Reviews a PRD.",
        ir=minimal_ir("prd-review"),
    )
    connector_connect(
        tenant=tenant,
        organization_id="org-dainese",
        api_key="sk-admin-key",
        workspace_id=WORKSPACE,
    )
    return sandbox


def put_gpts(sandbox, *gpts):
    httpx.post(
        f"{sandbox.url}/_sandbox/compliance/gpts/{WORKSPACE}", json={"gpts": list(gpts)}
    ).raise_for_status()


def built_as_exported(skill, **overrides):
    config = skill_bundle_build(skill=skill).config
    values = {
        "gpt_id": "g-built",
        "name": config["name"],
        "description": config["description"],
        "owner_email": "builder@dainese.example",
        "visibility": "workspace",
        "action_domain": HUB_HOST,
        "config_created_at": 1_764_000_000,
    }
    return gpt_object(**(values | overrides))


def test_a_gpt_built_as_exported_is_found_in_sync_with_its_owner_and_visibility(
    workspace, tenant, skill
):
    # given
    put_gpts(workspace, built_as_exported(skill))

    # when
    lines = {line.skill_id: line for line in skills_workspace_check(tenant=tenant)}

    # then
    built = lines["incident-postmortem"]
    assert built.found and built.in_sync
    assert (built.owner_email, built.visibility) == ("builder@dainese.example", "workspace")
    assert built.config_changed_at.year == 2025
    assert "knowledge files" in built.not_compared
    assert "instructions" in built.not_compared  # not exposed by this config
    assert not lines["prd-review"].found


def test_a_changed_description_and_instructions_are_drift(workspace, tenant, skill):
    # given: the config carries instructions (assumed field), edited in ChatGPT
    put_gpts(
        workspace,
        built_as_exported(
            skill, description="Edited in ChatGPT", extra_config={"instructions": "Be brief."}
        ),
    )

    # when
    (line,) = [x for x in skills_workspace_check(tenant=tenant) if x.found]

    # then
    assert line.drifted == ["description", "instructions"]
    assert line.line() == "incident-postmortem: drifted: description, instructions"


def test_an_action_on_another_domain_says_hub_records_will_be_missing_and_where_to_fix(
    workspace, tenant, skill
):
    # given
    put_gpts(workspace, built_as_exported(skill, action_domain="example.org"))

    # when
    (line,) = [x for x in skills_workspace_check(tenant=tenant) if x.found]

    # then
    assert line.domain_problem == (
        f"hub records will be missing — add {HUB_HOST} to Workspace settings → GPTs → Actions "
        "→ allowed domains"
    )
    assert not line.in_sync


def check_now(client, django_capture_on_commit_callbacks):
    """Press Check drift now and let the queued reads run (the request's transaction commits)."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("command_center:drift_check"), {"tenant": "dainese"})


def test_distribution_shows_each_skill_against_the_workspace(
    workspace, tenant, skill, client, staff, django_capture_on_commit_callbacks
):
    # given the workspace read after Check drift now
    put_gpts(workspace, built_as_exported(skill, action_domain="example.org"))
    client.force_login(staff)
    check_now(client, django_capture_on_commit_callbacks)

    # when
    page = client.get(f"{reverse('command_center:distribution')}?tenant=dainese").content.decode()

    # then
    assert 'id="workspace"' in page
    assert "builder@dainese.example" in page
    assert "not found" in page and "claresia-dainese-prd-review" in page
    assert "hub records will be missing" in page
    assert "not compared" in page


def test_distribution_says_why_the_inventory_cannot_be_read(
    sandbox, tenant, skill, client, staff, django_capture_on_commit_callbacks
):
    # given: a workspace the key is not authorized for, read after Check drift now
    connector_connect(
        tenant=tenant,
        organization_id="org-dainese",
        api_key="sk-admin-key",
        workspace_id="ffffffff-0000-4000-8000-000000000000",
    )
    client.force_login(staff)
    check_now(client, django_capture_on_commit_callbacks)

    # when
    page = client.get(f"{reverse('command_center:distribution')}?tenant=dainese").content.decode()

    # then
    assert "not authorized for this workspace" in page


def test_check_drift_uses_the_real_inventory_when_a_workspace_id_is_set(workspace, tenant, skill):
    # given
    put_gpts(workspace, built_as_exported(skill))
    out = io.StringIO()

    # when / then
    with pytest.raises(CommandError, match="not in sync: prd-review"):
        call_command("check_drift", "--tenant=dainese", stdout=out)
    printed = out.getvalue().splitlines()
    assert printed == [
        "incident-postmortem: in sync",
        "prd-review: missing (claresia-dainese-prd-review is not in the workspace)",
    ]


def test_check_drift_exits_0_when_every_skill_is_in_sync(workspace, tenant, skill):
    # given
    tenant.skills.filter(skill_id="prd-review").delete()
    put_gpts(workspace, built_as_exported(skill))
    out = io.StringIO()

    # when
    call_command("check_drift", "--tenant=dainese", stdout=out)

    # then
    assert out.getvalue().strip() == "incident-postmortem: in sync"


def test_the_exports_readme_has_the_steps_to_build_the_gpt_by_hand(tenant, skill):
    # when
    result = skills_export(tenant=tenant)

    # then
    archive = zipfile.ZipFile(
        io.BytesIO(result.bundles["claresia-dainese-incident-postmortem.zip"])
    )
    readme = archive.read("README.md").decode()
    assert "Build this GPT by hand" in readme
    assert "`claresia-dainese-incident-postmortem` exactly" in readme
    assert "https://api.claresia.com/hub/v1/schema" in readme
    assert "Bearer" in readme
    assert "adds `api.claresia.com` to Workspace settings → GPTs →" in readme


def test_distribution_gives_one_verdict_per_skill_from_both_reads(
    workspace, tenant, skill, client, staff
):
    # given the workspace's GPT differs in its description, read by the hourly workspace read,
    # while no publish drift check ran
    put_gpts(workspace, built_as_exported(skill, description="Edited in ChatGPT"))
    workspace_read_refresh(tenant_id=tenant.pk)
    client.force_login(staff)

    # when
    page = client.get(f"{reverse('command_center:distribution')}?tenant=dainese").content.decode()

    # then the skill's one verdict is the difference; "in sync" is said nowhere
    assert "Changed in ChatGPT" in page
    assert "<strong>in the workspace</strong>: description differ" in page
    assert "in sync" not in page.lower()
    assert "Deleted in ChatGPT" in page  # prd-review: nobody built it


def test_the_verdict_is_in_sync_only_when_neither_read_differs():
    # given
    publication = Publication(
        published_sha256="abc",
        drift_status=Publication.DriftStatus.DRIFTED,
        drift=[{"field": "instructions", "detail": "edited in ChatGPT"}],
    )
    line = WorkspaceSkillLine(skill_id="s", gpt_name="claresia-t-s", found=True)

    # when
    verdict = skill_verdict(publication, line)
    clean = skill_verdict(Publication(published_sha256="abc", drift_status="in_sync"), line)

    # then
    assert verdict.label == "Changed in ChatGPT"
    assert verdict.differences == (("instructions", "edited in ChatGPT"),)
    assert clean.label == "In sync" and clean.differences == ()
