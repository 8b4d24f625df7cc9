"""Governance events are open until someone with the admin role on the tenant marks them
reviewed, from the overview or the admin; the overview counts and lists the open ones."""

import pytest
from django.utils import timezone

from claresia.models import TenantMembership
from telemetry.hub.models import GovernanceEvent
from telemetry.hub.services import governance_events_review
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OVERVIEW = "/command-center/"


def review_url(event) -> str:
    return f"/command-center/governance/{event.pk}/review?tenant={event.tenant.slug}"


def make_event(
    tenant, key: str, message: str = "No hub record for this invocation."
) -> GovernanceEvent:
    return GovernanceEvent.objects.create(
        tenant=tenant,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message=message,
        dedupe_key=key,
        occurred_at=timezone.now(),
    )


def test_reviewing_marks_only_open_events_and_keeps_the_first_reviewer(tenant, staff, superuser):
    # given: one event already reviewed by staff, one open
    first, second = make_event(tenant, "e1"), make_event(tenant, "e2")
    governance_events_review(events=GovernanceEvent.objects.filter(pk=first.pk), user=staff)

    # when
    count = governance_events_review(events=GovernanceEvent.objects.all(), user=superuser)

    # then
    assert count == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.reviewed_by == staff
    assert second.reviewed_by == superuser
    assert not first.is_open and not second.is_open


def test_the_overview_marks_an_event_reviewed_and_stops_counting_it(client, staff, tenant):
    # given
    client.force_login(staff)
    event = make_event(tenant, "e1", message="Incident Postmortem left no hub record")
    make_event(tenant, "e2")
    assert "2 open" in client.get(f"{OVERVIEW}?tenant={tenant.slug}").content.decode()

    # when
    response = client.post(review_url(event))

    # then
    assert response.status_code == 302
    assert response["Location"].endswith(f"?tenant={tenant.slug}&reviewed={event.pk}#governance")
    page = client.get(f"{OVERVIEW}?tenant={tenant.slug}").content.decode()
    assert "1 open" in page
    assert "Incident Postmortem left no hub record" not in page
    event.refresh_from_db()
    assert event.reviewed_by == staff


def test_a_viewer_sees_no_button_and_cannot_review(client, tenant):
    # given
    viewer = make_user("dainese-viewer", tenants=[tenant], role="viewer")
    client.force_login(viewer)
    event = make_event(tenant, "e1")

    # when
    page = client.get(f"{OVERVIEW}?tenant={tenant.slug}").content.decode()
    response = client.post(review_url(event))

    # then
    assert "Mark reviewed" not in page
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.is_open


def test_another_tenants_event_cannot_be_reviewed(client, staff, tenant, other_tenant):
    # given: staff of `tenant` tries the other tenant's event under their own tenant
    client.force_login(staff)
    theirs = make_event(other_tenant, "o1")

    # when
    response = client.post(f"/command-center/governance/{theirs.pk}/review?tenant={tenant.slug}")

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_open


def test_reviewing_is_post_only(client, staff, tenant):
    client.force_login(staff)
    event = make_event(tenant, "e1")

    assert client.get(review_url(event)).status_code == 405


def test_the_admin_action_reviews_only_the_tenants_the_user_administers(
    client, tenant, other_tenant
):
    # given: admin of `tenant`, viewer of `other_tenant`
    user = make_user("mixed", tenants=[tenant])
    TenantMembership.objects.create(user=user, tenant=other_tenant, role="viewer")
    client.force_login(user)
    mine, theirs = make_event(tenant, "e1"), make_event(other_tenant, "o1")

    # when
    response = client.post(
        "/admin/telemetry/governanceevent/",
        {"action": "mark_reviewed", "_selected_action": [mine.pk, theirs.pk]},
    )

    # then
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert not mine.is_open
    assert theirs.is_open
    open_list = client.get("/admin/telemetry/governanceevent/?review=open").content.decode()
    assert f"/admin/telemetry/governanceevent/{theirs.pk}/change/" in open_list
    assert f"/admin/telemetry/governanceevent/{mine.pk}/change/" not in open_list


def test_the_details_page_tells_the_event_in_words_with_mark_reviewed(client, staff, tenant):
    # given an event with internal fields
    event = make_event(tenant, "hub_record_missing:conv-7:prd-review")
    event.details = {"internal": "raw-json-value"}
    event.openai_conversation_id = "conv-7"
    event.save()
    client.force_login(staff)

    # when
    page = client.get(f"/command-center/governance/{event.pk}/?tenant=dainese").content.decode()

    # then: the event in words, the action, no internal field
    assert "No hub record for this invocation." in page and "conv-7" in page
    assert ">Mark reviewed</button>" in page and "Open" in page
    assert "hub_record_missing:conv-7" not in page and "raw-json-value" not in page


def test_another_tenants_event_has_no_details_page(client, staff, other_tenant):
    event = make_event(other_tenant, "theirs")
    client.force_login(staff)
    assert client.get(f"/command-center/governance/{event.pk}/").status_code == 404


def test_the_overviews_links_and_buttons_name_their_event(client, staff, tenant):
    # given two events
    make_event(tenant, "a", "First.")
    make_event(tenant, "b", "Second.")
    client.force_login(staff)

    # when
    page = client.get(OVERVIEW).content.decode()

    # then each Details link and Mark reviewed button has its own accessible name
    details = [part.split('"', 1)[0] for part in page.split('aria-label="Details of ')[1:]]
    buttons = [part.split('"', 1)[0] for part in page.split('aria-label="Mark reviewed: ')[1:]]
    assert len(details) == 2 and len(buttons) == 2
    assert "/command-center/governance/" in page and "/admin/telemetry/governanceevent/" in page


def test_the_admin_says_open_in_words_never_with_a_green_tick(client, staff, tenant):
    make_event(tenant, "a")
    client.force_login(staff)
    page = client.get("/admin/telemetry/governanceevent/").content.decode()
    row = page.split('id="result_list"', 1)[1]
    assert ">open</strong>" in row and "icon-yes" not in row


def test_a_failed_connection_says_telemetry_is_not_read_instead_of_calm_zeros(
    client, staff, connector
):
    # given a connection whose last test reached nothing
    connector.status = connector.Status.FAILED
    connector.save()
    client.force_login(staff)

    # when
    page = client.get(OVERVIEW).content.decode()

    # then
    assert "telemetry is not being read" in page
    assert "Telemetry is not being read" in page
    assert "Nothing to review" not in page


def test_a_connected_tenant_with_no_event_has_nothing_to_review(client, staff, connector):
    connector.status = connector.Status.CONNECTED
    connector.save()
    client.force_login(staff)
    page = client.get(OVERVIEW).content.decode()
    assert "Nothing to review" in page and "not being read" not in page
