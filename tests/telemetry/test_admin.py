"""Poll health and telemetry events in the admin, scoped to the staff's tenants."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claresia.models import Tenant
from connectors.services import connector_connect
from telemetry.ingest.sources.audit_log.poller import telemetry_poll
from telemetry.models import PollCursor, TelemetryEvent
from tests.factories import COMPLIANCE_KEY, make_user
from tests.telemetry.helpers import seed

HEALTH = "admin:telemetry_pollcursor_changelist"
EVENTS = "admin:telemetry_telemetryevent_changelist"
IMPORT = "admin:telemetry_telemetryevent_import"
LINE = b'{"id": "audit_log-1", "type": "gpt.invoked", "effective_at": 1764068400, ' + (
    b'"gpt.invoked": {"gpt_name": "claresia-dainese-prd-review"}}\n'
)


@pytest.mark.integration
def test_poll_health_shows_the_compliance_disabled_message(client, superuser, sandbox, tenant):
    # given
    connector_connect(tenant=tenant, organization_id="org-team-dainese", api_key=COMPLIANCE_KEY)
    telemetry_poll(tenant=tenant)
    client.force_login(superuser)

    # when
    page = client.get(reverse(HEALTH))

    # then
    assert "Telemetry missing: Compliance API not enabled — upgrade to Enterprise" in (
        page.content.decode()
    )


@pytest.mark.integration
def test_poll_health_shows_counts_and_lag(client, superuser, sandbox, connector, tenant):
    # given
    expected = seed(sandbox, 120)
    telemetry_poll(tenant=tenant)
    client.force_login(superuser)
    cursor = PollCursor.objects.get()

    # when
    page = client.get(reverse("admin:telemetry_pollcursor_change", args=[cursor.pk]))

    # then
    body = page.content.decode()
    assert f">{len(expected)}<" in body
    assert "minute" in body  # the lag, now − newest event time


def test_staff_see_only_their_tenants_poll_health(client, staff, tenant, other_tenant):
    # given
    PollCursor.objects.create(tenant=tenant, last_error="dainese-error")
    PollCursor.objects.create(tenant=other_tenant, last_error="othercorp-error")
    client.force_login(staff)

    # when
    page = client.get(reverse(HEALTH))

    # then
    assert "dainese-error" in page.content.decode()
    assert "othercorp-error" not in page.content.decode()


def test_staff_see_only_their_tenants_events(client, staff, tenant, other_tenant):
    # given
    for owner, name in ((tenant, "claresia-dainese-a"), (other_tenant, "claresia-othercorp-a")):
        TelemetryEvent.objects.create(
            tenant=owner,
            skill_ref="a",
            source="compliance_api",
            source_event_id=f"audit_log-{owner.slug}",
            event_type="invoked",
            occurred_at="2025-11-25T11:00:00Z",
            gpt_name=name,
            raw={},
        )
    client.force_login(staff)

    # when
    page = client.get(reverse(EVENTS))

    # then
    assert "claresia-dainese-a" in page.content.decode()
    assert "claresia-othercorp-a" not in page.content.decode()


def test_an_upload_imports_the_audit_export(client, staff, tenant):
    # given
    client.force_login(staff)
    upload = SimpleUploadedFile("export.jsonl", LINE + b"oops\n")

    # when
    response = client.post(reverse(IMPORT), {"tenant": tenant.pk, "file": upload}, follow=True)

    # then
    messages = [str(m) for m in response.context["messages"]]
    assert TelemetryEvent.objects.get().source == "audit_export"
    assert messages[0].startswith("export.jsonl: 2 events read: 1 stored")
    assert messages[1] == "export.jsonl, line 2: not valid JSON"


def test_an_upload_for_another_tenant_is_refused_and_changes_nothing(client, staff, other_tenant):
    # given
    client.force_login(staff)
    upload = SimpleUploadedFile("export.jsonl", LINE)

    # when
    response = client.post(reverse(IMPORT), {"tenant": other_tenant.pk, "file": upload})

    # then
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert TelemetryEvent.objects.count() == 0


def test_an_unreadable_upload_is_refused_with_a_message(client, staff, tenant):
    # given
    client.force_login(staff)
    upload = SimpleUploadedFile("export.csv", b"when,who\n1,ana\n")

    # when
    response = client.post(reverse(IMPORT), {"tenant": tenant.pk, "file": upload})

    # then
    assert "the CSV header lacks id" in response.content.decode()
    assert TelemetryEvent.objects.count() == 0


def test_staff_of_no_tenant_cannot_open_the_import_page(client, db):
    # given
    Tenant.objects.create(slug="dainese", name="Dainese")
    client.force_login(make_user("nobody-staff"))

    # when
    response = client.get(reverse(IMPORT))

    # then
    assert response.status_code == 403


@pytest.mark.integration
def test_poll_now_queues_the_poll_which_lands_after_the_request(
    client, staff, sandbox, connector, tenant, django_capture_on_commit_callbacks
):
    # given
    expected = seed(sandbox, 100)
    cursor = PollCursor.objects.create(tenant=tenant)
    client.force_login(staff)

    # when
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(
            reverse(HEALTH),
            {"action": "poll_now", "_selected_action": [cursor.pk]},
            follow=True,
        )

    # then the user is told it is queued, and the poll task ran once the request committed
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Poll of dainese queued; this page shows the result when it lands."]
    assert len(queued) == 1
    assert TelemetryEvent.objects.count() == len(expected)
    cursor.refresh_from_db()
    assert cursor.last_stored == len(expected)


def test_poll_now_reads_nothing_during_the_request(
    client, staff, sandbox, connector, tenant, django_capture_on_commit_callbacks
):
    # given
    seed(sandbox, 10)
    cursor = PollCursor.objects.create(tenant=tenant)
    client.force_login(staff)

    # when the request ends without its transaction committing
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse(HEALTH), {"action": "poll_now", "_selected_action": [cursor.pk]})

    # then the poll waits in the queue: no call to OpenAI, nothing stored
    assert len(queued) == 1
    assert sandbox.state.requests == []
    assert TelemetryEvent.objects.count() == 0


def test_poll_now_counts_the_tenants_it_queued(
    client, superuser, tenant, other_tenant, django_capture_on_commit_callbacks
):
    # given
    cursors = [PollCursor.objects.create(tenant=t) for t in (tenant, other_tenant)]
    client.force_login(superuser)

    # when
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse(HEALTH),
            {"action": "poll_now", "_selected_action": [c.pk for c in cursors]},
            follow=True,
        )

    # then
    assert len(queued) == 2
    assert [str(m) for m in response.context["messages"]] == [
        "Polls of 2 tenants queued (dainese, othercorp); this page shows the results when they "
        "land."
    ]


def test_a_viewer_cannot_queue_a_poll(client, tenant, django_capture_on_commit_callbacks):
    # given
    cursor = PollCursor.objects.create(tenant=tenant)
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))

    # when
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse(HEALTH), {"action": "poll_now", "_selected_action": [cursor.pk]})

    # then
    assert queued == []
