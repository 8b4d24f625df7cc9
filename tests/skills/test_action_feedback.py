"""Every Command Center action says what it did: Mark reviewed (with Reopen to undo it), Check
drift now, Test connection; Publish all skills shows the plan before anything is written; an
export with nothing ticked downloads nothing."""

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from skills.models import PublishRun
from telemetry.hub.models import GovernanceEvent

pytestmark = pytest.mark.django_db

OVERVIEW = "/command-center/?tenant=dainese"
PUBLISH = "/command-center/distribution/openai/publish/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_mark_reviewed_says_so_and_reopen_undoes_it(client, staff, tenant, skill):
    # given
    event = GovernanceEvent.objects.create(
        tenant=tenant,
        skill=skill,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message="No hub record.",
        dedupe_key="g1",
        occurred_at=timezone.now(),
    )
    client.force_login(staff)

    # when
    reviewed = client.post(f"/command-center/governance/{event.pk}/review?tenant=dainese")
    page = client.get(reviewed["Location"]).content.decode()

    # then: the message, and a Reopen button posting to the undo
    assert "Marked reviewed: Hub record missing" in page
    assert f"/command-center/governance/{event.pk}/reopen" in page
    assert ">Reopen</button>" in page

    # when
    reopened = client.post(f"/command-center/governance/{event.pk}/reopen?tenant=dainese")

    # then
    assert any(t.startswith("Reopened: Hub record missing") for t in texts(reopened))
    event.refresh_from_db()
    assert event.is_open


def test_reopen_of_another_tenants_event_is_not_found(client, staff, other_tenant):
    event = GovernanceEvent.objects.create(
        tenant=other_tenant,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message="x",
        dedupe_key="g1",
        occurred_at=timezone.now(),
        reviewed_at=timezone.now(),
    )
    client.force_login(staff)
    assert client.post(f"/command-center/governance/{event.pk}/reopen").status_code == 404


def test_check_drift_now_says_it_started(client, staff, tenant, connector):
    # given
    client.force_login(staff)

    # when
    response = client.post("/command-center/distribution/openai/drift/", {"tenant": "dainese"})

    # then the page it lands on refreshes itself to show the verdicts: nobody is told to reload
    assert texts(response) == [
        "Checking drift of Dainese's published GPTs: this page shows each skill's verdict, with "
        "the time it was checked, when it refreshes in a few seconds."
    ]
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh" content="4;url=/command-center/distribution/?tenant=dainese"' in (
        page
    )


def test_test_connection_says_what_happened_with_the_tenant_name(client, staff, connector):
    # given: OpenAI is unreachable in the test settings
    client.force_login(staff)

    # when
    response = client.post("/command-center/connector/test", {"tenant": "dainese"})

    # then
    (message,) = texts(response)
    assert message == "Dainese: Not connected; the reasons are below."


def test_publish_all_skills_shows_the_plan_first_and_writes_nothing(
    client, staff, connector, imported_skill
):
    # given
    client.force_login(staff)

    # when
    distribution = client.get("/command-center/distribution/?tenant=dainese").content.decode()
    plan = client.get(f"{PUBLISH}?tenant=dainese")

    # then
    assert f'href="{PUBLISH}?tenant=dainese">Publish all skills…' in distribution
    body = plan.content.decode()
    assert "Nothing has been written yet" in body
    assert "claresia-dainese-incident-postmortem" in body
    assert "Yes, publish" in body
    assert not PublishRun.objects.exists()


def test_a_viewer_cannot_see_the_publish_plan(client, tenant, imported_skill):
    from tests.factories import make_user

    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))
    assert client.get(f"{PUBLISH}?tenant=dainese").status_code == 403


def test_export_with_nothing_ticked_downloads_nothing(client, staff, imported_skill):
    # given
    client.force_login(staff)

    # when: the Export page's form submitted with every box unticked
    response = client.get(
        "/command-center/distribution/openai/export/download?tenant=dainese&picked=1"
    )

    # then
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Select at least one skill to export" in response.content.decode()
