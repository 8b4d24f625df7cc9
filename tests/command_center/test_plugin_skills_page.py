"""Command Center → Telemetry → Plugin skills: every `skills_used` id with its uses, mapped or
not; staff confirm or correct its skill, and only for their own tenant."""

from datetime import timedelta

import pytest
from django.urls import reverse

from telemetry.models import PluginSkillMapping, TelemetryEvent
from tests.command_center.helpers import NOW
from tests.factories import make_skill, make_user

PAGE = reverse("command_center:plugin_skills")


def add_use(tenant, used: str, n: int) -> TelemetryEvent:
    return TelemetryEvent.objects.create(
        tenant=tenant,
        skill_ref=used[:64],
        skill_unknown=True,
        source=TelemetryEvent.Source.COMPLIANCE_LOGS,
        source_event_id=f"evt-{n}/{used}",
        event_type=TelemetryEvent.EventType.UNMAPPED,
        occurred_at=NOW - timedelta(hours=1),
        gpt_name="",
        conversation_id=f"conv-{n}",
        plugin_skill_id=used,
        raw={},
    )


@pytest.fixture
def unmapped(tenant):
    mapping = PluginSkillMapping.objects.create(tenant=tenant, skills_used_id="skill_abc123")
    for n in range(3):
        add_use(tenant, "skill_abc123", n)
    return mapping


def map_url(mapping) -> str:
    return reverse("command_center:plugin_skill_map", args=[mapping.pk])


def test_an_id_not_yet_mapped_is_shown_with_its_uses(client, staff, unmapped):
    # given
    client.force_login(staff)

    # when
    page = client.get(PAGE).content.decode()

    # then
    assert "skill_abc123" in page and "Not yet mapped" in page
    assert "<td>3</td>" in page


def test_staff_map_an_id_and_its_uses_become_invocations(client, staff, tenant, skill, unmapped):
    # given
    client.force_login(staff)

    # when
    response = client.post(map_url(unmapped), {"tenant": tenant.slug, "skill": skill.skill_id})

    # then
    assert response.status_code == 302
    unmapped.refresh_from_db()
    assert unmapped.skill == skill and unmapped.state == PluginSkillMapping.State.CONFIRMED
    assert set(
        TelemetryEvent.objects.filter(plugin_skill_id="skill_abc123").values_list(
            "event_type", "skill_id"
        )
    ) == {("invoked", skill.pk)}


def test_a_skill_the_tenant_does_not_have_changes_nothing_and_says_why(
    client, staff, tenant, unmapped, other_tenant
):
    # given
    make_skill(other_tenant, skill_id="their-skill")
    client.force_login(staff)

    # when
    response = client.post(
        map_url(unmapped), {"tenant": tenant.slug, "skill": "their-skill"}, follow=True
    )

    # then
    assert "The tenant has no skill" in response.content.decode()
    unmapped.refresh_from_db()
    assert unmapped.skill is None and unmapped.state == PluginSkillMapping.State.UNMAPPED


def test_another_tenants_id_is_not_found(client, staff, tenant, skill, other_tenant):
    # given
    theirs = PluginSkillMapping.objects.create(tenant=other_tenant, skills_used_id="skill_x")
    client.force_login(staff)

    # when
    response = client.post(map_url(theirs), {"tenant": tenant.slug, "skill": skill.skill_id})

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.skill is None


def test_a_viewer_sees_the_ids_and_cannot_map_them(client, tenant, skill, unmapped):
    # given
    viewer = make_user("dainese-viewer", tenants=[tenant], role="viewer")
    client.force_login(viewer)

    # when
    page = client.get(PAGE).content.decode()
    response = client.post(map_url(unmapped), {"tenant": tenant.slug, "skill": skill.skill_id})

    # then
    assert "skill_abc123" in page and "Confirm</button>" not in page
    assert response.status_code == 403
    unmapped.refresh_from_db()
    assert unmapped.skill is None
