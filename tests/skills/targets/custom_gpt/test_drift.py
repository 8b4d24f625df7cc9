"""Drift detection against the OpenAI sandbox over real HTTP: a published GPT is edited, deleted
or re-shared behind Claresia's back (the sandbox's `/_sandbox/gpts` controls), the check finds
it, and a republish overwrites it and clears the drift."""

import httpx
import pytest
import respx
from cryptography.fernet import Fernet

from connectors.sandbox.state import Fault
from skills.models import Publication
from skills.targets.custom_gpt.drift import (
    SHARING_NOT_REPORTED,
    DriftError,
    gpt_differences,
    skills_drift_check,
)
from skills.targets.custom_gpt.publish import skills_publish, skills_publish_plan
from skills.tasks import drift_check_all_task, publish_run_start

pytestmark = pytest.mark.integration
ORG = "org-dainese"


def _control(sandbox, method: str, gpt_id: str, body: dict | None = None) -> httpx.Response:
    """Change a GPT behind Claresia's back, over HTTP, as ChatGPT's admin would."""
    base = sandbox.api_base.removesuffix("/v1")
    response = httpx.request(method, f"{base}/_sandbox/gpts/{ORG}/{gpt_id}", json=body)
    response.raise_for_status()
    return response


def _fields(publication: Publication) -> list[str]:
    publication.refresh_from_db()
    return [difference["field"] for difference in publication.drift]


def test_an_untouched_gpt_is_in_sync(published):
    # when the published GPT is checked
    report = skills_drift_check(tenant=published.skill.tenant)
    # then it is in sync, and the check is stored with its time
    assert [o.line() for o in report.outcomes] == ["incident-postmortem: In sync"]
    published.refresh_from_db()
    assert published.drift_status == "in_sync" and published.drift == []
    assert published.drift_checked_at is not None


def test_instructions_edited_in_chatgpt_are_detected(sandbox, published):
    # given the GPT's instructions edited behind Claresia's back
    _control(sandbox, "PATCH", published.gpt_id, {"instructions": "Be brief."})
    # when checked
    skills_drift_check(tenant=published.skill.tenant)
    # then the publication has drifted, on its instructions only
    assert _fields(published) == ["instructions"]
    assert published.drift_status == "drifted"


def test_tools_actions_and_files_changed_in_chatgpt_are_detected(sandbox, published):
    # given tools added, the hub action and the knowledge files removed in ChatGPT
    tool = {"type": "function", "function": {"name": "extra", "parameters": {"type": "object"}}}
    _control(sandbox, "PATCH", published.gpt_id, {"tools": [tool], "actions": [], "file_ids": []})
    # when checked
    skills_drift_check(tenant=published.skill.tenant)
    # then each is named, with what differs
    assert _fields(published) == ["tools", "actions", "files"]
    assert "extra" in published.drift[0]["detail"]
    assert "1 published file(s) removed" in published.drift[2]["detail"]


def test_a_gpt_deleted_in_chatgpt_is_missing(sandbox, published):
    # given the GPT deleted behind Claresia's back
    _control(sandbox, "DELETE", published.gpt_id)
    # when checked
    report = skills_drift_check(tenant=published.skill.tenant)
    # then it is reported missing
    assert [o.status for o in report.outcomes] == ["missing"]
    published.refresh_from_db()
    assert published.drift_status == "missing"
    assert published.gpt_id in published.drift[0]["detail"]


def test_sharing_changed_in_chatgpt_is_detected(sandbox, published):
    # given the GPT made private in ChatGPT
    _control(
        sandbox, "PATCH", published.gpt_id, {"sharing": {"visibility": "private", "group_ids": []}}
    )
    # when checked
    skills_drift_check(tenant=published.skill.tenant)
    # then the sharing drift names both sides
    assert _fields(published) == ["sharing"]
    assert "grp_em, grp_sre" in published.drift[0]["detail"]


def test_republish_overwrites_a_drifted_gpt_and_clears_the_drift(sandbox, published):
    # given an edited, re-shared GPT found drifted
    _control(
        sandbox,
        "PATCH",
        published.gpt_id,
        {"instructions": "x", "sharing": {"visibility": "private", "group_ids": []}},
    )
    skills_drift_check(tenant=published.skill.tenant)
    # when the skill is republished (its bundle unchanged)
    report = skills_publish(tenant=published.skill.tenant, force=True)
    # then the GPT is updated, the drift cleared, and a new check finds it in sync
    assert [o.outcome for o in report.outcomes] == ["updated"]
    published.refresh_from_db()
    assert (published.drift_status, published.drift) == ("", [])
    skills_drift_check(tenant=published.skill.tenant)
    published.refresh_from_db()
    assert published.drift_status == "in_sync"


def test_republish_recreates_a_deleted_gpt(sandbox, published):
    # given the GPT deleted in ChatGPT
    _control(sandbox, "DELETE", published.gpt_id)
    # when republished
    report = skills_publish(tenant=published.skill.tenant, force=True)
    # then it is created again, and the check finds it in sync
    assert [o.outcome for o in report.outcomes] == ["created"]
    skills_drift_check(tenant=published.skill.tenant)
    published.refresh_from_db()
    assert published.drift_status == "in_sync"


def test_an_unchanged_bundle_is_still_unchanged_without_force(published):
    plan = skills_publish_plan(tenant=published.skill.tenant)
    assert [item.action for item in plan] == ["unchanged"]


def test_a_forced_publish_run_republishes(sandbox, published, django_capture_on_commit_callbacks):
    # given a drifted GPT
    _control(sandbox, "PATCH", published.gpt_id, {"instructions": "x"})
    # when a forced run is started and executed
    with django_capture_on_commit_callbacks(execute=True):
        run = publish_run_start(
            tenant=published.skill.tenant, skill_ids=["incident-postmortem"], force=True
        )
    # then the run updated the GPT
    run.refresh_from_db()
    assert (run.force, run.results[0]["outcome"]) == (True, "updated")
    gpt = sandbox.state.org(ORG).gpts[published.gpt_id]
    assert gpt["instructions"] == published.published_bundle["config"]["instructions"]


def test_a_read_error_is_stored_as_could_not_check(sandbox, published):
    # given OpenAI answering 500 on every read
    sandbox.state.faults.append(
        Fault(path=f"/v1/organization/gpts/{published.gpt_id}", status=500, times=10)
    )
    # when checked
    skills_drift_check(tenant=published.skill.tenant)
    # then the check says why, and keeps no difference
    published.refresh_from_db()
    assert published.drift_status == "error" and published.drift == []
    assert published.drift_error


def test_a_revoked_key_stops_the_check_with_the_reason(published, settings):
    # given a key OpenAI refuses
    with respx.mock(base_url=settings.OPENAI_API_BASE) as mock:
        mock.get(f"/organization/gpts/{published.gpt_id}").respond(
            401, json={"error": {"message": "bad key", "type": "x", "code": "invalid_api_key"}}
        )
        report = skills_drift_check(tenant=published.skill.tenant)
    # then the outcome is an error with the user-facing reason, not OpenAI's raw text
    assert report.outcomes[0].status == "error"
    assert report.outcomes[0].detail.startswith("The Compliance API key is not valid")


def test_a_tenant_without_a_connector_cannot_be_checked(published):
    published.skill.tenant.connector.delete()
    with pytest.raises(DriftError, match="no ChatGPT Enterprise connector"):
        skills_drift_check(tenant=published.skill.tenant)


def test_the_daily_task_checks_every_tenant_with_a_published_gpt(sandbox, published):
    # given a drifted GPT
    _control(sandbox, "PATCH", published.gpt_id, {"instructions": "x"})
    # when the daily task runs (in-process: no broker in tests)
    drift_check_all_task.delay()
    # then the tenant was checked
    published.refresh_from_db()
    assert published.drift_status == "drifted"
    assert drift_check_all_task() == 1


def test_the_beat_schedule_runs_the_drift_check_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["skills-drift-check-daily"]
    assert entry["task"] == "skills.tasks.drift_check_all_task"
    schedule = entry["schedule"]
    assert (len(schedule.hour), len(schedule.minute), len(schedule.day_of_week)) == (1, 1, 7)


def test_a_gpt_object_without_sharing_is_compared_on_the_rest_and_says_so():
    # given a GPT object exactly as published but without a sharing field
    snapshot = {"config": {"instructions": "a"}, "knowledge": [], "group_ids": ["grp_1"]}
    gpt = {"instructions": "a", "file_ids": [], "metadata": {"claresia_bundle_sha256": "h"}}
    # when compared
    differences, note = gpt_differences(
        snapshot=snapshot, file_ids={}, published_sha256="h", gpt=gpt
    )
    # then nothing differs, and the note says sharing was not compared
    assert (differences, note) == ([], SHARING_NOT_REPORTED)


def test_a_key_that_cannot_be_decrypted_stops_the_check_with_the_connectors_message(
    published, settings
):
    # given the key the connector was encrypted under is gone
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # when the drift check runs
    with pytest.raises(DriftError, match="paste the Compliance API key again"):
        skills_drift_check(tenant=published.skill.tenant)

    # then nothing was stored on the publication
    published.refresh_from_db()
    assert published.drift_checked_at is None
