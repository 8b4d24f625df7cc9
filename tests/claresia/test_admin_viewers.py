"""Viewers are read only everywhere in the admin: no action or custom admin view that changes
something or queues work runs on a tenant where the user's role is viewer, whether they are only
a viewer or an admin of another tenant too."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from claresia.models import ArchetypeGroup, Tenant, TenantMembership
from claresia.scoping import TenantScopedAdminMixin
from connectors.models import Connector
from connectors.services import connector_connect
from skills.models import PublishRun, Skill
from telemetry.app_connection.models import McpClient
from telemetry.app_connection.services import mcp_client_approve, mcp_client_register
from telemetry.hub.models import GovernanceEvent, HubToken, ModelPrice
from telemetry.hub.services import hub_token_issue
from telemetry.models import PollCursor, TelemetryEvent
from tests.factories import make_skill, make_user

# Actions that only read (a plan, a download): a viewer may run them.
READ_ONLY_ACTIONS = {"dry_run_selected", "export_selected", "export_plugin_selected"}


def scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, TenantScopedAdminMixin)
    ]


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def every_action() -> list[tuple[type, str]]:
    """(model, action name) of every action a superuser is offered on a scoped changelist."""
    found = []
    for model, model_admin in scoped_admins():
        found.extend((model, action.name) for action in model_admin._get_base_actions())
    return sorted(found, key=lambda item: (item[0]._meta.label, item[1]))


WRITING_ACTIONS = [(m, n) for m, n in every_action() if n not in READ_ONLY_ACTIONS]


def _id(value):
    return value._meta.label if isinstance(value, type) else value


# ---- every action --------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "action"), every_action(), ids=_id)
def test_an_action_that_writes_says_so_with_a_permission(model, action):
    # given
    actions = {a.name: a.func for a in admin.site._registry[model]._get_base_actions()}
    func = actions[action]

    # then: read-only actions are listed above; every other one needs more than "view"
    permissions = set(getattr(func, "allowed_permissions", ()))
    if action in READ_ONLY_ACTIONS:
        assert permissions <= {"view"}
    else:
        assert permissions - {"view"}, f"{action} changes something: give it a permission"


@pytest.mark.parametrize(("model", "action"), WRITING_ACTIONS, ids=_id)
def test_a_viewer_is_not_offered_an_action_that_writes(tenant, model, action):
    # given
    viewer = make_user("viewer", tenants=[tenant], role=TenantMembership.Role.VIEWER)

    # when
    offered = admin.site._registry[model].get_actions(admin_request(viewer))

    # then
    assert action not in offered


# ---- an admin of one tenant, viewer of another: each action on each side ------------------


def _row(model, tenant, superuser):
    """One row of `model` in `tenant`, as the admin shows it."""
    makers = {
        Tenant: lambda: tenant,
        ArchetypeGroup: lambda: ArchetypeGroup.objects.create(
            tenant=tenant, slug="sre", name="SRE"
        ),
        Connector: lambda: connector_connect(
            tenant=tenant, organization_id=f"org-{tenant.slug}", api_key=f"sk-{tenant.slug}-key"
        ),
        Skill: lambda: make_skill(tenant),
        PublishRun: lambda: PublishRun.objects.create(tenant=tenant, skill_ids=[], total=0),
        PollCursor: lambda: PollCursor.objects.create(tenant=tenant),
        HubToken: lambda: hub_token_issue(tenant=tenant, name="published GPTs").token,
        McpClient: lambda: mcp_client_approve(
            client_id=mcp_client_register(
                client_name="ChatGPT", redirect_uris=["https://chatgpt.com/connector/callback"]
            ).client_id,
            tenant=tenant,
            user=superuser,
        ),
        GovernanceEvent: lambda: GovernanceEvent.objects.create(
            tenant=tenant,
            kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
            message="No hub record.",
            dedupe_key=f"key-{tenant.slug}",
            occurred_at=datetime(2026, 11, 25, tzinfo=UTC),
        ),
        ModelPrice: lambda: ModelPrice.objects.create(
            tenant=tenant,
            model="gpt-4o",
            input_usd_per_million=Decimal("2.5"),
            output_usd_per_million=Decimal("10"),
        ),
    }
    assert model in makers, f"add a row maker for {model._meta.label}"
    return makers[model]()


@pytest.fixture
def mixed_user(tenant, other_tenant):
    """Admin of `dainese`, viewer of `othercorp`."""
    user = make_user("mixed", tenants=[tenant])
    TenantMembership.objects.create(user=user, tenant=other_tenant, role="viewer")
    return user


@pytest.mark.parametrize(("model", "action"), WRITING_ACTIONS, ids=_id)
def test_an_action_that_writes_never_reaches_a_tenant_where_the_user_is_a_viewer(
    client, monkeypatch, superuser, mixed_user, tenant, other_tenant, model, action
):
    # given: a row in each tenant, and the action replaced by one that records what it got
    model_admin = admin.site._registry[model]
    if action not in model_admin.get_actions(admin_request(mixed_user)):
        return  # not offered to this user at all (Claresia staff's rows, or read-only rows)
    mine, theirs = _row(model, tenant, superuser), _row(model, other_tenant, superuser)
    received = []
    original = {a.name: a.func for a in model_admin._get_base_actions()}[action]

    def spy(modeladmin, request, queryset):
        received.append(sorted(obj.pk for obj in queryset))

    spy.allowed_permissions = getattr(original, "allowed_permissions", ())
    spy.short_description = getattr(original, "short_description", action)
    owner = type(model_admin) if hasattr(type(model_admin), action) else None
    if owner is not None:
        monkeypatch.setattr(owner, action, spy)
    else:
        monkeypatch.setitem(admin.site._actions, action, spy)
    client.force_login(mixed_user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    # when: once with the viewer tenant's row alone, once with both rows
    client.post(url, {"action": action, "_selected_action": [theirs.pk]})
    client.post(url, {"action": action, "_selected_action": [mine.pk, theirs.pk]})

    # then: the action never saw the viewer tenant's row
    assert received == [[mine.pk]]


# ---- the actions themselves ---------------------------------------------------------------


def test_a_viewer_cannot_check_drift_from_the_admin(
    client, tenant, skill, django_capture_on_commit_callbacks
):
    # given
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))

    # when
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            reverse("admin:skills_skill_changelist"),
            {"action": "check_drift_selected", "_selected_action": [skill.pk]},
        )

    # then
    assert queued == []
    assert not LogEntry.objects.exists()


def _history(obj) -> list[str]:
    return [e.get_change_message() for e in LogEntry.objects.filter(object_id=str(obj.pk))]


def test_connection_tests_and_re_encryption_skip_the_viewers_tenant(
    client, mixed_user, tenant, other_tenant
):
    # given
    theirs = connector_connect(tenant=other_tenant, organization_id="org-o", api_key="sk-o-key")
    ciphertext = theirs.api_key_ciphertext
    client.force_login(mixed_user)
    url = reverse("admin:connectors_connector_changelist")

    # when
    for action in ("test_connection_selected", "reencrypt_selected"):
        client.post(url, {"action": action, "_selected_action": [theirs.pk]})

    # then
    theirs.refresh_from_db()
    assert theirs.status == Connector.Status.NEVER_TESTED
    assert theirs.api_key_ciphertext == ciphertext
    assert _history(theirs) == []


def test_the_connection_test_button_refuses_a_viewer(client, tenant):
    # given
    connector = connector_connect(tenant=tenant, organization_id="org-d", api_key="sk-d-key")
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))

    # when
    response = client.post(
        reverse("admin:connectors_connector_test_connection", args=[connector.pk])
    )

    # then
    assert response.status_code == 403
    connector.refresh_from_db()
    assert connector.status == Connector.Status.NEVER_TESTED


@pytest.mark.parametrize(
    ("url_name", "upload"),
    [
        ("admin:skills_skill_import", ("skill.yaml", b"id: x\nname: X\n")),
        (
            "admin:telemetry_telemetryevent_import",
            ("export.jsonl", b'{"id": "e1", "type": "gpt.invoked"}\n'),
        ),
    ],
)
def test_import_pages_refuse_a_viewer_and_a_viewers_tenant(
    client, mixed_user, tenant, other_tenant, url_name, upload
):
    # given
    viewer = make_user("viewer", tenants=[tenant], role="viewer")
    name, body = upload

    # when: a viewer opens the page; a mixed user posts to the tenant they only view
    client.force_login(viewer)
    as_viewer = client.get(reverse(url_name))
    client.force_login(mixed_user)
    client.post(
        reverse(url_name), {"tenant": other_tenant.pk, "file": SimpleUploadedFile(name, body)}
    )

    # then
    assert as_viewer.status_code == 403
    assert not Skill.objects.filter(tenant=other_tenant).exists()
    assert not TelemetryEvent.objects.filter(tenant=other_tenant).exists()


@pytest.mark.parametrize("action", ["publish_selected", "republish_selected"])
def test_publishing_refuses_the_viewers_tenant(client, mixed_user, other_tenant, action):
    # given
    theirs = make_skill(other_tenant)
    client.force_login(mixed_user)

    # when
    client.post(
        reverse("admin:skills_skill_changelist"),
        {"action": action, "_selected_action": [theirs.pk], "confirm": "yes"},
    )

    # then
    assert not PublishRun.objects.exists()


def test_delete_keeps_the_viewers_rows(client, mixed_user, tenant, other_tenant):
    # given
    theirs = ArchetypeGroup.objects.create(tenant=other_tenant, slug="sre", name="SRE")
    client.force_login(mixed_user)

    # when: the action, then its confirmation
    url = reverse("admin:claresia_archetypegroup_changelist")
    client.post(url, {"action": "delete_selected", "_selected_action": [theirs.pk]})
    client.post(url, {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"})

    # then
    assert ArchetypeGroup.objects.filter(pk=theirs.pk).exists()


def test_hub_token_revoke_and_review_skip_the_viewers_tenant(client, mixed_user, other_tenant):
    # given
    token = hub_token_issue(tenant=other_tenant, name="published GPTs").token
    event = GovernanceEvent.objects.create(
        tenant=other_tenant,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message="No hub record.",
        dedupe_key="o1",
        occurred_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    client.force_login(mixed_user)

    # when
    client.post(
        reverse("admin:telemetry_hubtoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    client.post(
        reverse("admin:telemetry_governanceevent_changelist"),
        {"action": "mark_reviewed", "_selected_action": [event.pk]},
    )

    # then
    token.refresh_from_db()
    event.refresh_from_db()
    assert token.revoked_at is None
    assert event.is_open


def test_a_poll_is_not_queued_for_the_viewers_tenant(
    client, mixed_user, other_tenant, django_capture_on_commit_callbacks
):
    # given
    cursor = PollCursor.objects.create(tenant=other_tenant)
    client.force_login(mixed_user)

    # when
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            reverse("admin:telemetry_pollcursor_changelist"),
            {"action": "poll_now", "_selected_action": [cursor.pk]},
        )

    # then
    assert queued == []
