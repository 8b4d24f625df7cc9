"""Drift and the plugin export on the Command Center's Distribution page (badge, what differs,
Check drift now, one-click Republish, Download plugin), each scoped to the user's tenants. The
skills admin's side (column, inline, actions) is `admin/test_drift_actions.py`."""

import io
import json
import zipfile

import httpx
import pytest

from skills.models import Publication, PublishRun
from skills.targets.custom_gpt.drift import skills_drift_check
from tests.factories import make_user
from tests.skills.helpers import gpt_edited_in_chatgpt

DISTRIBUTION = "/command-center/distribution/"
REPUBLISH = "/command-center/distribution/openai/republish/"
DRIFT = "/command-center/distribution/openai/drift/"
PLUGIN = "/command-center/distribution/plugin/download"


# ---- Command Center -----------------------------------------------------------------------


@pytest.mark.integration
def test_check_drift_now_finds_an_edited_gpt_and_the_page_shows_it(
    client, staff, sandbox, published, django_capture_on_commit_callbacks
):
    # given a GPT edited in ChatGPT
    gpt_edited_in_chatgpt(sandbox, published.gpt_id)
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
