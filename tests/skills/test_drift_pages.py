"""Drift and the plugin export on the pages: the Command Center's Distribution page (badge, what
differs, Check drift now, one-click Republish, Download plugin) and the skills admin (column,
inline, actions), each scoped to the user's tenants."""

import io
import json
import zipfile

import httpx
import pytest

from skills.models import Publication, PublishRun
from skills.targets.custom_gpt.drift import skills_drift_check
from skills.targets.custom_gpt.publish import skills_publish
from tests.factories import make_user

DISTRIBUTION = "/command-center/distribution/"
REPUBLISH = "/command-center/distribution/openai/republish/"
DRIFT = "/command-center/distribution/openai/drift/"
PLUGIN = "/command-center/distribution/plugin/download"
ADMIN_SKILLS = "/admin/skills/skill/"


def _edit_behind_our_back(sandbox, gpt_id: str, body: dict | None = None) -> None:
    base = sandbox.api_base.removesuffix("/v1")
    httpx.patch(
        f"{base}/_sandbox/gpts/org-dainese/{gpt_id}", json=body or {"instructions": "Be brief."}
    ).raise_for_status()


@pytest.fixture
def published(sandbox, connector, imported_skill) -> Publication:
    assert skills_publish(tenant=connector.tenant).ok
    return Publication.objects.get(skill=imported_skill)


@pytest.fixture
def drifted(sandbox, published) -> Publication:
    _edit_behind_our_back(sandbox, published.gpt_id)
    skills_drift_check(tenant=published.skill.tenant)
    published.refresh_from_db()
    return published


# ---- Command Center -----------------------------------------------------------------------


@pytest.mark.integration
def test_check_drift_now_finds_an_edited_gpt_and_the_page_shows_it(
    client, staff, sandbox, published, django_capture_on_commit_callbacks
):
    # given a GPT edited in ChatGPT
    _edit_behind_our_back(sandbox, published.gpt_id)
    client.force_login(staff)
    # when staff press Check drift now
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(DRIFT, {"tenant": "dainese"})
    # then they are back on Distribution, which shows the badge, what differs and Republish
    assert response["Location"] == f"{DISTRIBUTION}?tenant=dainese&drift=checking"
    page = client.get(response["Location"]).content.decode()
    assert "Changed in ChatGPT" in page
    assert "<strong>instructions</strong>: edited in ChatGPT" in page
    assert 'action="/command-center/distribution/openai/republish/"' in page


@pytest.mark.integration
def test_a_deleted_gpt_is_shown_as_deleted_in_chatgpt(client, staff, sandbox, published):
    base = sandbox.api_base.removesuffix("/v1")
    httpx.delete(f"{base}/_sandbox/gpts/org-dainese/{published.gpt_id}").raise_for_status()
    skills_drift_check(tenant=published.skill.tenant)
    client.force_login(staff)
    assert "Deleted in ChatGPT" in client.get(DISTRIBUTION).content.decode()


@pytest.mark.integration
def test_an_in_sync_gpt_has_no_republish_button(client, staff, published):
    skills_drift_check(tenant=published.skill.tenant)
    client.force_login(staff)
    page = client.get(DISTRIBUTION).content.decode()
    assert "In sync" in page
    assert 'action="/command-center/distribution/openai/republish/"' not in page


@pytest.mark.integration
def test_republish_overwrites_the_gpt_and_clears_the_drift(
    client, staff, sandbox, drifted, django_capture_on_commit_callbacks
):
    # given a drifted GPT whose bundle is unchanged
    client.force_login(staff)
    # when staff press Republish
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REPUBLISH, {"tenant": "dainese", "skill": "incident-postmortem"})
    # then a forced run overwrote the GPT, and the drift is cleared
    run = PublishRun.objects.get()
    assert response["Location"] == f"/command-center/distribution/openai/publish/{run.pk}/"
    run.refresh_from_db()
    assert (run.force, run.status, run.results[0]["outcome"]) == (True, "finished", "updated")
    gpt = sandbox.state.org("org-dainese").gpts[drifted.gpt_id]
    assert gpt["instructions"] == drifted.published_bundle["config"]["instructions"]
    drifted.refresh_from_db()
    assert drifted.drift_status == "" and drifted.drift == []


def test_republish_is_post_only(client, staff, imported_skill):
    client.force_login(staff)
    assert client.get(REPUBLISH + "?tenant=dainese&skill=incident-postmortem").status_code == 405


def test_viewer_cannot_republish_or_check_drift(client, tenant, imported_skill):
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))
    assert (
        client.post(REPUBLISH, {"tenant": "dainese", "skill": "incident-postmortem"}).status_code
        == 403
    )
    assert client.post(DRIFT, {"tenant": "dainese"}).status_code == 403
    assert not PublishRun.objects.exists()


def test_staff_cannot_republish_another_tenants_skill(client, staff, imported_skill, other_skill):
    client.force_login(staff)
    # by naming the other tenant
    response = client.post(REPUBLISH, {"tenant": "othercorp", "skill": "incident-postmortem"})
    assert response.status_code == 404
    # or a skill id their tenant does not have
    response = client.post(REPUBLISH, {"tenant": "dainese", "skill": "not-ours"})
    assert response.status_code == 404
    assert not PublishRun.objects.exists()


def test_staff_cannot_check_drift_of_another_tenant(client, staff, other_skill):
    client.force_login(staff)
    assert client.post(DRIFT, {"tenant": "othercorp"}).status_code == 404


def test_distribution_shows_no_drift_of_another_tenant(client, staff, imported_skill, other_skill):
    # given the other tenant's GPT drifted
    Publication.objects.create(
        skill=other_skill,
        status="published",
        gpt_id="g-other",
        published_sha256="h",
        drift_status="drifted",
        drift=[{"field": "instructions", "detail": "secret-drift-of-othercorp"}],
    )
    client.force_login(staff)
    # then staff of dainese never see it
    assert b"secret-drift-of-othercorp" not in client.get(DISTRIBUTION).content


def test_download_plugin_returns_the_skill_folders_plugin_and_manifest(
    client, staff, imported_skill
):
    client.force_login(staff)
    response = client.get(PLUGIN + "?tenant=dainese")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="claresia-dainese-plugin-export.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [
        "claresia-dainese.zip",
        "incident-postmortem.zip",
        "manifest.json",
    ]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["skills"][0]["not_carried"]


def test_download_plugin_of_another_tenant_is_not_found(client, staff, other_skill):
    client.force_login(staff)
    assert client.get(PLUGIN + "?tenant=othercorp").status_code == 404


def test_download_plugin_requires_login(client, db):
    assert client.get(PLUGIN).status_code == 302


def test_download_plugin_with_no_skill_is_not_found(client, staff):
    client.force_login(staff)
    assert client.get(PLUGIN).status_code == 404


# ---- admin --------------------------------------------------------------------------------


@pytest.mark.integration
def test_admin_check_drift_action_queues_the_check_whose_result_the_pages_show(
    client, staff, sandbox, published, django_capture_on_commit_callbacks
):
    # given a GPT edited in ChatGPT
    _edit_behind_our_back(sandbox, published.gpt_id)
    client.force_login(staff)
    # when the admin action runs on the skill
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(
            ADMIN_SKILLS,
            {"action": "check_drift_selected", "_selected_action": [published.skill.pk]},
            follow=True,
        )
    # then it says the check is queued; the check ran once the request committed
    reported = [str(message) for message in response.context["messages"]]
    assert reported == [
        "Drift check of Dainese's published GPTs queued; the Drift column shows the result "
        "when it lands."
    ]
    assert len(queued) == 1
    published.refresh_from_db()
    assert published.drift_status == "drifted"
    # and the list and the skill page show the drift
    assert "Changed in ChatGPT" in client.get(ADMIN_SKILLS).content.decode()
    page = client.get(f"{ADMIN_SKILLS}{published.skill.pk}/change/").content.decode()
    assert "Changed in ChatGPT (instructions: edited in ChatGPT" in page


@pytest.mark.integration
def test_admin_check_drift_action_reads_nothing_during_the_request(
    client, staff, sandbox, published, django_capture_on_commit_callbacks
):
    # given a published GPT, and the sandbox's request log cleared
    sandbox.state.requests.clear()
    client.force_login(staff)
    # when the action runs and the request ends without committing
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            ADMIN_SKILLS,
            {"action": "check_drift_selected", "_selected_action": [published.skill.pk]},
        )
    # then the check waits in the queue: no GPT was read back, nothing stored
    assert len(queued) == 1
    assert sandbox.state.requests == []
    published.refresh_from_db()
    assert published.drift_checked_at is None


def _republish(client, skill, **extra):
    return client.post(
        ADMIN_SKILLS,
        {"action": "republish_selected", "_selected_action": [skill.pk], **extra},
    )


@pytest.mark.integration
def test_admin_republish_first_shows_the_plan_and_what_it_overwrites(
    client, staff, sandbox, drifted
):
    # given a drifted GPT whose skill is unchanged since its publish
    sandbox.state.requests.clear()
    client.force_login(staff)
    # when staff choose Republish on it
    page = _republish(client, drifted.skill)
    # then the publish confirmation page shows the forced plan and warns what is lost
    assert page.status_code == 200
    assert page.templates[0].name == "admin/skills/skill/publish_plan.html"
    (item,) = page.context["plan"]
    assert (item.action, item.force) == ("update", True)
    assert item.changes == ["republish over the changes made in ChatGPT"]
    body = page.content.decode()
    assert "overwrite what was changed in ChatGPT" in body
    assert 'name="action" value="republish_selected"' in body
    assert "Yes, republish and overwrite" in body
    # and nothing was written or called yet
    assert not PublishRun.objects.exists()
    assert sandbox.state.requests == []


@pytest.mark.integration
def test_admin_republish_once_confirmed_overwrites_the_gpt(
    client, staff, sandbox, drifted, django_capture_on_commit_callbacks
):
    # given a drifted GPT, and staff on the confirmation page
    client.force_login(staff)
    # when they confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = _republish(client, drifted.skill, confirm="yes")
    # then a forced run overwrote the GPT, and the browser follows its progress
    run = PublishRun.objects.get()
    assert response["Location"] == f"/command-center/distribution/openai/publish/{run.pk}/"
    run.refresh_from_db()
    assert (run.force, run.status, run.results[0]["outcome"]) == (True, "finished", "updated")
    gpt = sandbox.state.org("org-dainese").gpts[drifted.gpt_id]
    assert gpt["instructions"] == drifted.published_bundle["config"]["instructions"]


def test_admin_drift_action_ignores_another_tenants_skill(
    client, staff, other_skill, django_capture_on_commit_callbacks
):
    # given a publication of the other tenant
    publication = Publication.objects.create(
        skill=other_skill, status="published", gpt_id="g-other", published_sha256="h"
    )
    client.force_login(staff)
    # when staff post its id to the action
    with django_capture_on_commit_callbacks(execute=True) as queued:
        client.post(
            ADMIN_SKILLS, {"action": "check_drift_selected", "_selected_action": [other_skill.pk]}
        )
    # then nothing of it was queued or checked
    assert queued == []
    publication.refresh_from_db()
    assert publication.drift_checked_at is None


def test_admin_viewer_cannot_republish(client, tenant, imported_skill):
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))
    _republish(client, imported_skill, confirm="yes")
    assert not PublishRun.objects.exists()


def test_admin_export_plugin_action_downloads_the_plugin(client, staff, imported_skill):
    client.force_login(staff)
    response = client.post(
        ADMIN_SKILLS, {"action": "export_plugin_selected", "_selected_action": [imported_skill.pk]}
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="claresia-dainese-plugin-export.zip"'
    )
