"""Tenant staff see and change only their tenants' rows, on every admin page; superusers see all."""

import pytest
from django.urls import reverse

from claresia.models import ArchetypeGroup, Tenant, TenantMembership
from connectors.services import connector_connect
from tests.factories import make_skill, make_user


@pytest.fixture
def two_tenants(tenant, other_tenant):
    """Each tenant with one row of every scoped model."""
    rows = {}
    for t in (tenant, other_tenant):
        rows[t.slug] = {
            "tenant": t,
            "archetypegroup": ArchetypeGroup.objects.create(tenant=t, slug="sre", name="SRE"),
            "connector": connector_connect(
                tenant=t, organization_id=f"org-{t.slug}", api_key=f"sk-compliance-{t.slug}"
            ),
            "skill": make_skill(t, skill_id="prd-review", name="PRD Review"),
        }
    return rows


SCOPED = [
    ("claresia", "tenant"),
    ("claresia", "archetypegroup"),
    ("connectors", "connector"),
    ("skills", "skill"),
]


@pytest.mark.parametrize(("app", "model"), SCOPED)
def test_the_changelist_lists_only_the_staff_users_tenant(client, staff, two_tenants, app, model):
    # given
    client.force_login(staff)

    # when
    response = client.get(reverse(f"admin:{app}_{model}_changelist"))

    # then
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == {two_tenants["dainese"][model].pk}


@pytest.mark.parametrize(("app", "model"), SCOPED)
def test_another_tenants_row_cannot_be_opened_by_url(client, staff, two_tenants, app, model):
    # given
    client.force_login(staff)
    foreign = two_tenants["othercorp"][model]

    # when
    response = client.get(reverse(f"admin:{app}_{model}_change", args=[foreign.pk]))

    # then: the admin treats it as missing and sends the user back to the index
    assert response.status_code == 302
    assert "othercorp" not in client.get(response.url).content.decode().lower()


@pytest.mark.parametrize(("app", "model"), SCOPED)
def test_another_tenants_row_cannot_be_changed_by_post(client, staff, two_tenants, app, model):
    # given
    client.force_login(staff)
    foreign = two_tenants["othercorp"][model]

    # when
    client.post(reverse(f"admin:{app}_{model}_change", args=[foreign.pk]), {"name": "Hijacked"})

    # then
    foreign.refresh_from_db()
    assert getattr(foreign, "name", "") != "Hijacked"


@pytest.mark.parametrize(("app", "model"), SCOPED)
def test_superusers_see_every_tenant(client, superuser, two_tenants, app, model):
    # given
    client.force_login(superuser)

    # when
    response = client.get(reverse(f"admin:{app}_{model}_changelist"))

    # then
    assert len(response.context["cl"].result_list) == 2


def test_tenant_choices_on_add_forms_are_the_users_tenants(client, staff, two_tenants):
    # given
    client.force_login(staff)

    # when
    form = client.get(reverse("admin:claresia_archetypegroup_add")).context["adminform"].form

    # then
    assert list(form.fields["tenant"].queryset) == [two_tenants["dainese"]["tenant"]]


def test_a_row_cannot_be_added_to_another_tenant(client, staff, two_tenants):
    # given
    client.force_login(staff)

    # when
    client.post(
        reverse("admin:claresia_archetypegroup_add"),
        {
            "tenant": two_tenants["othercorp"]["tenant"].pk,
            "slug": "intruders",
            "name": "Intruders",
        },
    )

    # then
    assert not ArchetypeGroup.objects.filter(slug="intruders").exists()


def test_a_viewer_can_look_but_not_change(client, tenant, two_tenants):
    # given
    viewer = make_user("viewer", tenants=[tenant], role=TenantMembership.Role.VIEWER)
    client.force_login(viewer)
    group = two_tenants["dainese"]["archetypegroup"]
    url = reverse("admin:claresia_archetypegroup_change", args=[group.pk])

    # when
    seen = client.get(url)
    client.post(url, {"tenant": tenant.pk, "slug": "sre", "name": "Changed"})

    # then
    assert seen.status_code == 200
    group.refresh_from_db()
    assert group.name == "SRE"


def test_staff_without_a_membership_see_no_tenant_pages(client, two_tenants):
    # given
    stranger = make_user("stranger")
    client.force_login(stranger)

    # when
    response = client.get(reverse("admin:claresia_tenant_changelist"))

    # then
    assert response.status_code == 403


def test_memberships_are_for_claresia_staff_only(client, staff, two_tenants):
    # given
    client.force_login(staff)

    # when
    response = client.get(reverse("admin:claresia_tenantmembership_changelist"))

    # then
    assert response.status_code == 403


def test_tenant_staff_cannot_create_tenants(client, staff, two_tenants):
    # given
    client.force_login(staff)

    # when
    client.post(
        reverse("admin:claresia_tenant_add"),
        {"slug": "mine", "name": "Mine", "deployment_mode": "A"},
    )

    # then
    assert not Tenant.objects.filter(slug="mine").exists()
