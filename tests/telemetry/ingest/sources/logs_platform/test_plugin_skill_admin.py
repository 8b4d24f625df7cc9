"""Admin → Plugin skill mappings: staff confirm or correct an id's skill through the same
service as the Command Center (the stored uses follow), offered only their tenant's skills."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from telemetry.models import PluginSkillMapping, TelemetryEvent
from tests.factories import make_skill


@pytest.fixture
def mapping(tenant):
    mapping = PluginSkillMapping.objects.create(tenant=tenant, skills_used_id="skill_abc")
    TelemetryEvent.objects.create(
        tenant=tenant,
        skill_ref="skill_abc",
        skill_unknown=True,
        source=TelemetryEvent.Source.COMPLIANCE_LOGS,
        source_event_id="evt-1/skill_abc",
        event_type=TelemetryEvent.EventType.UNMAPPED,
        occurred_at=datetime(2026, 11, 25, tzinfo=UTC),
        gpt_name="",
        conversation_id="conv-1",
        plugin_skill_id="skill_abc",
        raw={},
    )
    return mapping


def change_url(mapping) -> str:
    return reverse("admin:telemetry_pluginskillmapping_change", args=[mapping.pk])


def test_staff_confirm_a_mapping_in_the_admin_and_its_uses_follow(client, staff, skill, mapping):
    # given
    client.force_login(staff)

    # when
    response = client.post(change_url(mapping), {"skill": skill.pk})

    # then
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.skill == skill and mapping.state == PluginSkillMapping.State.CONFIRMED
    assert TelemetryEvent.objects.get(plugin_skill_id="skill_abc").event_type == "invoked"


def test_only_the_mappings_tenants_skills_are_offered(client, staff, skill, mapping, other_tenant):
    # given
    theirs = make_skill(other_tenant, skill_id="their-skill")
    client.force_login(staff)

    # when
    page = client.get(change_url(mapping)).content.decode()
    refused = client.post(change_url(mapping), {"skill": theirs.pk})

    # then
    assert f'value="{skill.pk}"' in page and f'value="{theirs.pk}"' not in page
    assert refused.status_code == 200  # the form says the choice is not valid
    mapping.refresh_from_db()
    assert mapping.skill is None
