"""Drift in the skills admin: the Check drift action queues the check whose result the Drift
column and the skill page show, Republish shows the forced plan before overwriting, Export plugin
downloads the plugin; each scoped to the user's tenants (the Command Center's side is
`tests/skills/test_drift_pages.py`)."""

import pytest

from skills.models import Publication, PublishRun
from tests.factories import make_user
from tests.skills.helpers import gpt_edited_in_chatgpt

ADMIN_SKILLS = "/admin/skills/skill/"


@pytest.mark.integration
def test_admin_check_drift_action_queues_the_check_whose_result_the_pages_show(
    client, staff, sandbox, published, django_capture_on_commit_callbacks
):
    # given a GPT edited in ChatGPT
    gpt_edited_in_chatgpt(sandbox, published.gpt_id)
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
