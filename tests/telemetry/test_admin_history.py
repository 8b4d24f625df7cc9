"""Every custom view and action of the telemetry admin (ingest and hub) writes who did what to
which object in its admin history."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from telemetry.hub.models import GovernanceEvent, HubToken
from telemetry.models import PollCursor
from tests.factories import admin_history, admin_history_url
from tests.telemetry.test_admin import LINE

pytestmark = pytest.mark.django_db


def poll_now(client, request):
    cursor = PollCursor.objects.create(tenant=request.getfixturevalue("tenant"))
    client.post(
        reverse("admin:telemetry_pollcursor_changelist"),
        {"action": "poll_now", "_selected_action": [cursor.pk]},
    )
    return cursor, CHANGE, "Poll queued."


def import_audit_export(client, request):
    tenant = request.getfixturevalue("tenant")
    client.post(
        reverse("admin:telemetry_telemetryevent_import"),
        {"tenant": tenant.pk, "file": SimpleUploadedFile("export.jsonl", LINE)},
    )
    # The events are many and read only: the import is told in the tenant's history.
    message = (
        "Imported the audit export export.jsonl: 1 event read: 1 stored, 0 already there, "
        "0 skipped (not this tenant's claresia-* GPTs), 0 malformed."
    )
    return tenant, CHANGE, message


def issue_hub_token(client, request):
    tenant = request.getfixturevalue("tenant")
    client.post(reverse("admin:telemetry_hubtoken_add"), {"tenant": tenant.pk, "name": "GPTs"})
    token = HubToken.objects.get(tenant=tenant)
    return token, ADDITION, f"Issued the hub token …{token.last4} (shown once)."


def revoke_hub_token(client, request):
    token = request.getfixturevalue("issued").token
    client.post(
        reverse("admin:telemetry_hubtoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    return token, CHANGE, "Revoked."


def mark_reviewed(client, request):
    event = GovernanceEvent.objects.create(
        tenant=request.getfixturevalue("tenant"),
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        dedupe_key="e1",
        occurred_at="2025-11-25T11:00:00Z",
        message="no hub record",
    )
    client.post(
        reverse("admin:telemetry_governanceevent_changelist"),
        {"action": "mark_reviewed", "_selected_action": [event.pk]},
    )
    return event, CHANGE, "Marked reviewed."


CASES = [poll_now, import_audit_export, issue_hub_token, revoke_hub_token, mark_reviewed]


@pytest.mark.parametrize("use", CASES, ids=[case.__name__ for case in CASES])
def test_each_custom_view_and_action_is_in_the_objects_history(client, staff, request, use):
    # given staff of the tenant, logged in
    client.force_login(staff)

    # when they use the view or action
    obj, flag, message = use(client, request)

    # then the object's history says who did what, and its History page shows it
    assert admin_history(obj) == [(staff.username, flag, message)]
    assert escape(message) in client.get(admin_history_url(obj)).content.decode()


def test_an_action_logs_only_what_it_changed(client, staff, issued):
    # given a token already revoked, and staff of the tenant
    token = issued.token
    client.force_login(staff)
    changelist = reverse("admin:telemetry_hubtoken_changelist")
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [token.pk]})

    # when they revoke it again
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [token.pk]})

    # then its history holds the one revocation
    assert admin_history(token) == [(staff.username, CHANGE, "Revoked.")]
