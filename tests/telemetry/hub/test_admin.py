import json

import pytest

from telemetry.hub.models import GovernanceEvent, HubRecord, HubToken, ModelPrice
from telemetry.hub.services import hub_token_authenticate
from tests.factories import make_skill, make_user

pytestmark = pytest.mark.django_db


def emit(client, skill_id, **extra):
    body = {"skill_id": skill_id, "output": f"output of {skill_id}", **extra}
    response = client.post(
        "/hub/v1/records", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201
    return response.json()["id"]


def test_minting_a_token_in_the_admin_shows_it_once(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    response = client.post(
        "/admin/telemetry/hubtoken/add/", {"tenant": tenant.pk, "name": "published GPTs"}
    )

    # then
    assert response.status_code == 200
    page = response.content.decode()
    plaintext = page.split('id="hub-token"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert hub_token_authenticate(plaintext=plaintext).tenant == tenant
    listing = client.get("/admin/telemetry/hubtoken/").content.decode()
    assert plaintext not in listing
    assert f"…{plaintext[-4:]}" in listing


def test_the_add_form_preselects_the_users_only_tenant(client, staff, tenant, other_tenant):
    client.force_login(staff)
    page = client.get("/admin/telemetry/hubtoken/add/").content.decode()
    assert f'<option value="{tenant.pk}" selected>' in page


def test_a_minted_token_has_a_copy_button_served_as_a_static_script(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    page = client.post(
        "/admin/telemetry/hubtoken/add/", {"tenant": tenant.pk, "name": "published GPTs"}
    ).content.decode()

    # then: a button that copies the token, its behaviour in a static file (the CSP holds)
    assert 'data-copy="#hub-token"' in page and ">Copy token</button>" in page
    assert "/static/command_center/copy.js" in page
    assert "onclick" not in page


def test_staff_cannot_mint_a_token_for_another_tenant(client, staff, other_tenant):
    # given
    client.force_login(staff)

    # when
    response = client.post(
        "/admin/telemetry/hubtoken/add/", {"tenant": other_tenant.pk, "name": "x"}
    )

    # then
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert HubToken.objects.count() == 0


def test_the_revoke_action_revokes_tokens(client, staff, issued):
    # given
    client.force_login(staff)

    # when
    client.post(
        "/admin/telemetry/hubtoken/",
        {"action": "revoke_selected", "_selected_action": [issued.token.pk]},
    )

    # then
    assert hub_token_authenticate(plaintext=issued.plaintext) is None


def test_hub_records_are_read_only_in_the_admin(client, staff, hub, skill):
    # given
    record_id = emit(hub, skill.skill_id)
    client.force_login(staff)

    # when
    change = client.get(f"/admin/telemetry/hubrecord/{record_id}/change/")
    add = client.get("/admin/telemetry/hubrecord/add/")
    delete = client.post(f"/admin/telemetry/hubrecord/{record_id}/delete/", {"post": "yes"})

    # then
    assert change.status_code == 200
    assert 'name="output"' not in change.content.decode()
    assert add.status_code == 403
    assert delete.status_code == 403
    assert HubRecord.objects.filter(pk=record_id).exists()


def test_staff_see_only_their_tenants_records_and_skills(
    client, staff, hub, other_hub, skill, other_skill
):
    # given
    ours = emit(hub, skill.skill_id)
    theirs = emit(other_hub, other_skill.skill_id)
    client.force_login(staff)

    # when
    listing = client.get("/admin/telemetry/hubrecord/").content.decode()
    other_page = client.get(f"/admin/telemetry/hubrecord/{theirs}/change/")

    # then
    assert ours in listing and theirs not in listing
    assert "Quarterly Review" not in listing  # not even in the skill filter
    assert other_page.status_code == 302  # the admin's "does not exist" redirect


def test_records_filter_by_tenant_skill_and_status(client, superuser, hub, tenant, skill):
    # given
    second = make_skill(tenant, skill_id="weekly-report", name="Weekly Report")
    first_id = emit(hub, skill.skill_id)
    second_id = emit(hub, second.skill_id, status="refused")
    client.force_login(superuser)

    # when
    by_skill = client.get(f"/admin/telemetry/hubrecord/?skill__id__exact={second.pk}")
    by_status = client.get("/admin/telemetry/hubrecord/?status__exact=completed")
    by_tenant = client.get(f"/admin/telemetry/hubrecord/?tenant__id__exact={tenant.pk}")

    # then
    assert second_id in by_skill.content.decode() and first_id not in by_skill.content.decode()
    assert first_id in by_status.content.decode()
    assert second_id not in by_status.content.decode()
    assert first_id in by_tenant.content.decode() and second_id in by_tenant.content.decode()


def test_governance_events_are_read_only_and_scoped(
    client, staff, hub, other_hub, skill, other_skill
):
    # given
    emit(hub, skill.skill_id, status="refused")
    emit(other_hub, other_skill.skill_id, status="refused")
    ours = GovernanceEvent.objects.get(tenant=skill.tenant)
    client.force_login(staff)

    # when
    listing = client.get("/admin/telemetry/governanceevent/").content.decode()
    delete = client.post(f"/admin/telemetry/governanceevent/{ours.pk}/delete/", {"post": "yes"})

    # then
    assert "Incident Postmortem" in listing and "Quarterly Review" not in listing
    assert delete.status_code == 403
    assert GovernanceEvent.objects.count() == 2


def test_a_viewer_cannot_mint_or_revoke(client, tenant, issued):
    # given
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))

    # when
    add = client.post("/admin/telemetry/hubtoken/add/", {"tenant": tenant.pk, "name": "x"})
    client.post(
        "/admin/telemetry/hubtoken/",
        {"action": "revoke_selected", "_selected_action": [issued.token.pk]},
    )

    # then
    assert add.status_code == 403
    assert hub_token_authenticate(plaintext=issued.plaintext) is not None


def test_staff_edit_only_their_tenants_prices(client, staff, tenant, other_tenant):
    # given
    ModelPrice.objects.create(
        tenant=other_tenant, model="gpt-4o", input_usd_per_million=1, output_usd_per_million=2
    )
    client.force_login(staff)

    # when
    added = client.post(
        "/admin/telemetry/modelprice/add/",
        {
            "tenant": tenant.pk,
            "model": "gpt-4o",
            "input_usd_per_million": "3",
            "output_usd_per_million": "12",
        },
    )
    listing = client.get("/admin/telemetry/modelprice/").content.decode()

    # then
    assert added.status_code == 302
    assert ModelPrice.objects.get(tenant=tenant).output_usd_per_million == 12
    assert "Other Corp" not in listing
