"""Automated publish against the OpenAI sandbox (real HTTP on loopback): create, update,
unchanged, 401, 403, 429, partial failure, dry run and the Celery-run progress."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from claresia.models import ArchetypeGroup
from connectors.models import Connector
from connectors.sandbox.state import Fault
from connectors.services import connector_connect
from skills.ir.importers import sources_from_path
from skills.models import Publication, PublishRun, SkillVersion
from skills.services.imports import skills_import
from skills.targets.custom_gpt.publish import (
    PlanAction,
    PublishError,
    skills_publish,
    skills_publish_plan,
)
from skills.tasks import publish_run_start
from tests.skills.helpers import SKILL_FOLDER, fixture_ir, minimal_ir, write_skill

pytestmark = pytest.mark.integration
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _writes(sandbox) -> list[tuple[str, str, int]]:
    return [r for r in sandbox.state.requests if r[0] in WRITES]


def _gpts(sandbox, org="org-dainese") -> dict[str, dict]:
    return {g["name"]: g for g in sandbox.state.org(org).gpts.values()}


def _import_version(tenant, tmp_path, **changes):
    document = {**fixture_ir(), **changes}
    files = {
        "references/postmortem-template.md": (
            SKILL_FOLDER / "references/postmortem-template.md"
        ).read_bytes()
    }
    write_skill(tmp_path, document, files)
    report = skills_import(tenant=tenant, sources=sources_from_path(tmp_path))
    assert report.ok, report.refused


def test_first_publish_creates_the_gpt_uploads_files_and_shares_it(
    sandbox, connector, imported_skill
):
    # when the imported skill is published
    report = skills_publish(tenant=connector.tenant)
    # then the GPT exists under its name, with its file, shared with the archetype groups
    assert [o.line() for o in report.outcomes] == ["incident-postmortem: created"]
    gpt = _gpts(sandbox)["claresia-dainese-incident-postmortem"]
    assert len(gpt["file_ids"]) == 1
    assert gpt["sharing"] == {"visibility": "groups", "group_ids": ["grp_em", "grp_sre"]}
    publication = Publication.objects.get(skill=imported_skill)
    assert (publication.status, publication.gpt_id) == ("published", gpt["id"])
    assert publication.published_sha256 == gpt["metadata"]["claresia_bundle_sha256"]


def test_republishing_an_unchanged_skill_makes_no_write_call(sandbox, connector, imported_skill):
    # given a published skill
    skills_publish(tenant=connector.tenant)
    sandbox.state.requests.clear()
    # when it is published again unchanged
    report = skills_publish(tenant=connector.tenant)
    # then it is unchanged and OpenAI saw no call at all
    assert [o.outcome for o in report.outcomes] == ["unchanged"]
    assert sandbox.state.requests == []


def test_a_newer_version_updates_the_same_gpt_without_reuploading_unchanged_files(
    sandbox, connector, imported_skill, tmp_path
):
    # given a published skill, then a newer version whose knowledge file is the same
    skills_publish(tenant=connector.tenant)
    gpt_id = Publication.objects.get(skill=imported_skill).gpt_id
    _import_version(connector.tenant, tmp_path, version="1.1.0", description="Sharper drafts.")
    sandbox.state.requests.clear()
    # when published
    report = skills_publish(tenant=connector.tenant)
    # then the same GPT is updated, with no file upload and no sharing call
    assert [o.line() for o in report.outcomes] == ["incident-postmortem: updated"]
    assert _writes(sandbox) == [("POST", f"/v1/organization/gpts/{gpt_id}", 200)]
    assert (
        _gpts(sandbox)["claresia-dainese-incident-postmortem"]["description"] == "Sharper drafts."
    )
    history = SkillVersion.objects.filter(skill=imported_skill).order_by("imported_at")
    assert [(v.version, bool(v.published_at)) for v in history] == [
        ("1.0.0", True),
        ("1.1.0", True),
    ]


def test_an_existing_gpt_of_the_same_name_is_updated_not_duplicated(
    sandbox, connector, imported_skill
):
    # given a GPT already named like the skill (published before Claresia knew of it)
    skills_publish(tenant=connector.tenant)
    Publication.objects.all().delete()
    # when published again
    report = skills_publish(tenant=connector.tenant)
    # then the existing GPT is found by name and updated
    assert [o.outcome for o in report.outcomes] == ["updated"]
    assert len(sandbox.state.org("org-dainese").gpts) == 1


def test_dry_run_shows_the_plan_and_calls_nothing(
    sandbox, connector, imported_skill, tmp_path, capsys
):
    # given a published skill and a newer version of it
    skills_publish(tenant=connector.tenant)
    _import_version(connector.tenant, tmp_path, version="1.1.0", description="Sharper drafts.")
    sandbox.state.requests.clear()
    # when the dry run runs
    call_command("publish_skills", "--tenant", "dainese", "--dry-run")
    # then it names the changed fields (the version is quoted in the instructions) and nothing
    # reached OpenAI
    assert capsys.readouterr().out == "incident-postmortem: update (description, instructions)\n"
    assert sandbox.state.requests == []


def test_plan_blocks_a_skill_with_an_unknown_archetype_naming_the_group(
    connector, imported_skill, tenant, tmp_path
):
    _import_version(tenant, tmp_path, version="1.1.0", archetypes=["finance"])
    (item,) = skills_publish_plan(tenant=tenant)
    assert item.action == "blocked"
    assert "archetype group 'finance' does not exist for tenant 'dainese'" in item.reason


def test_missing_scope_key_fails_with_the_troubleshooting_answer(sandbox, tenant, imported_skill):
    # given a connector holding a regular Admin key, not Compliance scope
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-1234")
    # when publishing
    report = skills_publish(tenant=tenant)
    # then the skill failed with the seed's answer
    (outcome,) = report.outcomes
    assert outcome.outcome == "failed"
    assert outcome.detail.startswith(
        "Admin key is not Compliance scope: re-mint with Compliance scope"
    )


def test_publish_disabled_switches_the_tenant_to_manual_export(sandbox, tenant, imported_skill):
    # given an org where API publish is not enabled
    connector_connect(tenant=tenant, organization_id="org-nopublish", api_key="sk-compliance-x-1")
    # when publishing
    report = skills_publish(tenant=tenant)
    # then the tenant is switched to manual export, told in its words what to do instead
    assert report.message == (
        "OpenAI does not let Claresia create Custom GPTs in this workspace: a workspace builder "
        "makes each one by hand in ChatGPT, following the steps in its ZIP from "
        "Distribution → Export"
    )
    assert "Bulk import" not in report.message
    assert Connector.objects.get(tenant=tenant).publish_mode == "manual_export"
    assert Publication.objects.get(skill=imported_skill).status == "failed"


def test_manual_export_tenant_is_blocked_before_any_call(sandbox, tenant, imported_skill):
    connector_connect(
        tenant=tenant,
        organization_id="org-dainese",
        api_key="sk-compliance-x-1",
        publish_mode=Connector.PublishMode.MANUAL_EXPORT,
    )
    report = skills_publish(tenant=tenant)
    assert [o.outcome for o in report.outcomes] == ["blocked"]
    assert sandbox.state.requests == []


def test_rate_limited_calls_are_retried_and_the_publish_succeeds(
    sandbox, connector, imported_skill
):
    # given OpenAI answering 429 (with and without Retry-After) to the first GPT calls
    sandbox.state.faults.append(Fault(path="/v1/organization/gpts", status=429, retry_after="1"))
    sandbox.state.faults.append(Fault(path="/v1/files", status=429, times=1))
    # when publishing
    report = skills_publish(tenant=connector.tenant)
    # then the calls were retried and the skill is published
    assert [o.outcome for o in report.outcomes] == ["created"]
    assert [r for r in sandbox.state.requests if r[2] == 429] != []


def test_partial_failure_leaves_the_others_published_and_says_which_failed(
    sandbox, connector, imported_skill, tenant, tmp_path
):
    # given a second skill shared with an archetype whose workspace group does not exist
    ArchetypeGroup.objects.create(
        tenant=tenant, slug="finance", name="Finance", workspace_group_id="grp_finance"
    )
    sandbox.state.org("org-dainese").group_ids = {"grp_em", "grp_sre"}
    write_skill(tmp_path, minimal_ir(archetypes=["finance"]))
    skills_import(tenant=tenant, sources=sources_from_path(tmp_path))
    # when both are published
    report = skills_publish(tenant=tenant)
    # then one is published and the other failed, naming the group
    lines = sorted(o.line() for o in report.outcomes)
    assert lines == [
        "incident-postmortem: created",
        "prd-review: failed: workspace group grp_finance (archetype finance) does not exist "
        "in the ChatGPT workspace",
    ]


def test_publish_skills_command_exits_non_zero_when_a_skill_failed(
    sandbox, tenant, imported_skill, capsys
):
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-1234")
    with pytest.raises(CommandError, match="1 of 1 skill"):
        call_command("publish_skills", "--tenant", "dainese")
    assert capsys.readouterr().out.startswith("incident-postmortem: failed: Admin key is not")


def test_a_publish_run_records_progress_until_it_finishes(
    sandbox, connector, imported_skill, staff, django_capture_on_commit_callbacks
):
    # when a run is started (its Celery task runs in-process on commit)
    with django_capture_on_commit_callbacks(execute=True):
        run = publish_run_start(
            tenant=connector.tenant, skill_ids=["incident-postmortem"], user=staff
        )
    # then it finished with every skill counted
    run = PublishRun.objects.get(pk=run.pk)
    assert (run.status, run.total, run.done, run.failed, run.remaining) == ("finished", 1, 1, 0, 0)
    assert run.results == [{"skill_id": "incident-postmortem", "outcome": "created", "detail": ""}]


def test_a_finished_run_run_again_changes_nothing(
    sandbox, connector, imported_skill, django_capture_on_commit_callbacks
):
    from skills.targets.custom_gpt.publish import publish_run_execute

    with django_capture_on_commit_callbacks(execute=True):
        run = publish_run_start(tenant=connector.tenant, skill_ids=["incident-postmortem"])
    sandbox.state.requests.clear()
    publish_run_execute(run_id=run.pk)
    assert sandbox.state.requests == []


def test_a_gpt_deleted_behind_our_back_is_created_again_and_shared(
    sandbox, connector, imported_skill, tmp_path
):
    # given a published skill whose GPT someone deleted in ChatGPT
    skills_publish(tenant=connector.tenant)
    sandbox.state.org("org-dainese").gpts.clear()
    _import_version(connector.tenant, tmp_path, version="1.0.1")
    # when the next version is published
    report = skills_publish(tenant=connector.tenant)
    # then a new GPT is created and shared again with the archetype groups
    assert [o.outcome for o in report.outcomes] == ["created"]
    (gpt,) = sandbox.state.org("org-dainese").gpts.values()
    assert gpt["sharing"]["group_ids"] == ["grp_em", "grp_sre"]


def test_a_changed_knowledge_file_is_uploaded_again(sandbox, connector, imported_skill, tmp_path):
    # given a published skill, then a newer version whose template changed
    skills_publish(tenant=connector.tenant)
    write_skill(
        tmp_path,
        {**fixture_ir(), "version": "1.1.0"},
        {"references/postmortem-template.md": b"# A new template\n"},
    )
    skills_import(tenant=connector.tenant, sources=sources_from_path(tmp_path))
    sandbox.state.requests.clear()
    # when published
    skills_publish(tenant=connector.tenant)
    # then exactly that file is uploaded, and the GPT points at it
    uploads = [r for r in sandbox.state.requests if r[:2] == ("POST", "/v1/files")]
    assert len(uploads) == 1
    (gpt,) = sandbox.state.org("org-dainese").gpts.values()
    (file_id,) = gpt["file_ids"]
    assert sandbox.state.org("org-dainese").files[file_id]["bytes"] == len(b"# A new template\n")


def test_a_key_that_cannot_be_decrypted_stops_the_publish_with_the_connectors_message(
    sandbox, connector, imported_skill, settings
):
    # given the key the connector was encrypted under is gone
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # when publishing
    with pytest.raises(PublishError) as raised:
        skills_publish(tenant=connector.tenant)

    # then the publish says what the connector says, and nothing was called
    assert "paste the Compliance API key again" in str(raised.value)
    assert sandbox.state.requests == []


def test_a_tenant_without_a_connector_is_blocked_in_the_plan(sandbox, tenant, imported_skill):
    # given a tenant with a skill and no connector

    # when the publish is planned
    plan = skills_publish_plan(tenant=tenant)

    # then the skill is blocked with the connector's reason
    assert [(item.action, item.reason) for item in plan] == [
        (
            PlanAction.BLOCKED,
            "tenant dainese has no ChatGPT Enterprise connector: connect it first",
        )
    ]
