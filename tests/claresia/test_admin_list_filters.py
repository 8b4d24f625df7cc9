"""A changelist's filters offer tenant staff only what they may see: the tenant filter lists their
tenants, never another tenant's name or id, on every scoped admin changelist."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.urls import reverse

from claresia.models import ArchetypeGroup, Tenant
from claresia.scoping import TenantScopedAdminMixin
from skills.models import PublishRun
from tests.factories import make_skill


def _filtered_fields(model_admin) -> list[str]:
    items = model_admin.list_filter
    return [
        item if isinstance(item, str) else item[0] for item in items if not isinstance(item, type)
    ]


def changelists_filtered_by_a_relation() -> list[str]:
    """The URL names of scoped changelists with a list filter on a relation (tenant, skill, …)."""
    names = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, TenantScopedAdminMixin):
            continue
        relations = [
            path
            for path in _filtered_fields(model_admin)
            if get_fields_from_path(model, path)[-1].is_relation
        ]
        if relations:
            names.append(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return sorted(names)


CHANGELISTS = changelists_filtered_by_a_relation()


@pytest.fixture
def rows_of_both_tenants(tenant, other_tenant, superuser):
    for t in (tenant, other_tenant):
        ArchetypeGroup.objects.create(tenant=t, slug="sre", name="SRE")
        make_skill(t, skill_id=f"review-{t.slug}", name=f"Review {t.name}")
        PublishRun.objects.create(tenant=t, started_by=superuser, skill_ids=[], total=0)
    return tenant, other_tenant


def test_the_tenant_filtered_changelists_are_found():
    # then: the ones the attack run named are among those this module checks
    for name in ("skills_skill", "skills_publishrun", "claresia_archetypegroup"):
        assert f"admin:{name}_changelist" in CHANGELISTS


def filter_choices(response) -> dict[str, set]:
    """The values each relation filter of the changelist offers, by field path."""
    return {
        spec.field_path: {str(value) for value, _ in spec.lookup_choices}
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "field_path", None) and hasattr(spec, "lookup_choices")
    }


@pytest.mark.parametrize("url_name", CHANGELISTS)
def test_filters_do_not_name_another_tenant(client, staff, rows_of_both_tenants, url_name):
    # given: staff of two tenants, neither of them `othercorp`
    own, other = rows_of_both_tenants
    second = Tenant.objects.create(slug="dainese-us", name="Dainese US")
    staff.tenant_memberships.create(tenant=second, role="admin")
    client.force_login(staff)

    # when
    response = client.get(reverse(url_name))

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert other.name not in page
    assert other.slug not in page
    assert f"tenant__id__exact={other.pk}" not in page
    offered = filter_choices(response).get("tenant", set())
    assert offered <= {str(own.pk), str(second.pk)}


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:skills_skill_changelist",
        "admin:skills_publishrun_changelist",
        "admin:claresia_archetypegroup_changelist",
    ],
)
def test_superusers_filter_by_every_tenant(client, superuser, rows_of_both_tenants, url_name):
    # given
    own, other = rows_of_both_tenants
    client.force_login(superuser)

    # when
    response = client.get(reverse(url_name))

    # then
    assert response.status_code == 200
    assert filter_choices(response)["tenant"] == {str(own.pk), str(other.pk)}
