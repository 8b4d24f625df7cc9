"""Plugin skill uses from `message.author.skills_used`, against the sandbox over real HTTP: each
use of an id is one row exactly once, an id not yet mapped is kept with its count, the mapping is
learned from hub records of the same conversations or set by staff, and the stored uses follow
it without a re-poll; a mapped skill used with no hub record is a governance event."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from connectors.openai import chatgpt_admin
from connectors.sandbox.chatgpt_admin import conversation_lines, plugin_skill_used_id
from connectors.services import connector_connect, connector_test_connection
from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.hub.services import OpenAIContext, hub_record_emit
from telemetry.ingest.services import telemetry_poll_tenant
from telemetry.ingest.sources.logs_platform.plugin_skills import (
    MappingError,
    hub_record_conversations_fill,
    plugin_skill_mapping_set,
)
from telemetry.ingest.sources.logs_platform.poller import logs_poll
from telemetry.models import PluginSkillMapping, TelemetryEvent
from telemetry.selectors import plugin_skill_mappings
from tests.factories import make_skill

pytestmark = pytest.mark.integration

WORKSPACE = "5a1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
WS = chatgpt_admin.Principal.workspace(WORKSPACE)
MARKER = "MARKER-plugin-never-stored"
TITLE = "TITLE-plugin-never-stored"


@pytest.fixture
def workspace(sandbox, tenant, skill):
    """dainese with a real admin key and a workspace id, no GPTs at all."""
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-key", workspace_id=WORKSPACE
    )
    connector_test_connection(connector=connector)
    return sandbox


@pytest.fixture
def used_id(tenant, skill):
    return plugin_skill_used_id(tenant.slug, skill.skill_id)


def add_file(sandbox, lines):
    response = httpx.post(
        f"{sandbox.url}/_sandbox/compliance/logs",
        json={"principal": WORKSPACE, "event_type": "CONVERSATION_MESSAGE", "lines": lines},
    )
    response.raise_for_status()


def plugin_lines(seed, skills_used, conversations=3, hours_ago=2):
    return conversation_lines(
        principal=WORKSPACE,
        conversations=conversations,
        gpt_ids=[],
        start=timezone.now() - timedelta(hours=hours_ago),
        seed=seed,
        skills_used=skills_used,
        content=MARKER,
        title=TITLE,
    )


def uses(tenant):
    return TelemetryEvent.objects.filter(tenant=tenant).exclude(plugin_skill_id="")


def record(tenant, skill, conversation, **options):
    return hub_record_emit(
        tenant=tenant,
        skill_id=skill.skill_id,
        output="## Summary\nDone.",
        usage=None,
        latency_ms=1800,
        context=OpenAIContext(conversation_id=conversation),
        **options,
    ).record


def test_each_skill_use_is_one_row_exactly_once_across_repeated_polls(workspace, tenant, used_id):
    # given: three plugin conversations, the same file served twice (at-least-once delivery)
    lines = plugin_lines(1, [used_id])
    add_file(workspace, lines)
    add_file(workspace, lines)

    # when
    first = logs_poll(tenant=tenant, principal=WS)
    second = logs_poll(tenant=tenant, principal=WS)

    # then: one row per assistant message that used the skill, none the second time
    assert first.skill_uses == 3 and second.skill_uses == 0
    assert uses(tenant).count() == 3
    assert set(uses(tenant).values_list("source_event_id", flat=True)) == {
        f"evt-1-{c}-1/{used_id}" for c in range(3)
    }


def test_an_id_not_yet_mapped_is_kept_with_its_count_and_is_not_an_invocation(
    workspace, tenant, used_id
):
    # given
    add_file(workspace, plugin_lines(2, [used_id]))

    # when
    logs_poll(tenant=tenant, principal=WS)

    # then
    assert set(uses(tenant).values_list("event_type", flat=True)) == {"unmapped"}
    (row,) = plugin_skill_mappings(tenant=tenant)
    assert row["mapping"].skills_used_id == used_id
    assert row["mapping"].state == PluginSkillMapping.State.UNMAPPED
    assert row["uses"] == 3


def test_no_message_content_or_title_is_stored(workspace, tenant, used_id):
    # given
    add_file(workspace, plugin_lines(3, [used_id]))

    # when
    logs_poll(tenant=tenant, principal=WS)

    # then
    for raw in uses(tenant).values_list("raw", flat=True):
        assert MARKER not in str(raw) and TITLE not in str(raw)
        assert "content" not in raw["message"] and "title" not in raw["conversation"]


def test_the_mapping_is_learned_from_hub_records_of_the_same_conversations(
    workspace, tenant, skill, used_id
):
    # given: two of three conversations wrote a hub record of the skill
    add_file(workspace, plugin_lines(4, [used_id]))
    record(tenant, skill, "conv-4-0")
    record(tenant, skill, "conv-4-1")

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then: every use is an invocation of the skill, priced from its record where it has one
    mapping = PluginSkillMapping.objects.get(tenant=tenant, skills_used_id=used_id)
    assert mapping.skill == skill and mapping.state == PluginSkillMapping.State.LEARNED
    assert mapping.agreeing_conversations == 2
    assert set(uses(tenant).values_list("event_type", "skill_ref")) == {
        ("invoked", "incident-postmortem")
    }
    assert uses(tenant).filter(latency_ms=1800).count() == 2


def test_a_mapped_skill_used_with_no_hub_record_is_a_hub_record_missing_event(
    workspace, tenant, skill, used_id
):
    # given: the third conversation wrote no record
    add_file(workspace, plugin_lines(5, [used_id]))
    record(tenant, skill, "conv-5-0")
    record(tenant, skill, "conv-5-1")

    # when
    telemetry_poll_tenant(tenant=tenant)
    telemetry_poll_tenant(tenant=tenant)

    # then: one event, saying no record was written, never blaming the user
    (event,) = GovernanceEvent.objects.filter(
        tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING
    )
    assert event.openai_conversation_id == "conv-5-2"
    assert "no record was written" in event.message
    assert "refused" not in event.message


def test_uses_read_long_before_their_id_is_learned_are_still_reconciled(
    workspace, tenant, skill, used_id
):
    # given: uses three hours ago, read and reconciled while their id was unknown, then newer
    # files; only later do two of their conversations' hub records arrive
    add_file(workspace, plugin_lines(10, [used_id], hours_ago=3))
    add_file(workspace, plugin_lines(11, ["skill_someone_elses"], hours_ago=1))
    telemetry_poll_tenant(tenant=tenant)
    record(tenant, skill, "conv-a-0")
    record(tenant, skill, "conv-a-1")

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then: the third conversation's use, now of a known skill, has no record
    (event,) = GovernanceEvent.objects.filter(
        tenant=tenant, kind=GovernanceEvent.Kind.HUB_RECORD_MISSING
    )
    assert event.openai_conversation_id == "conv-a-2"


def test_staff_correct_a_mapping_and_the_stored_uses_follow_without_a_new_poll(
    workspace, tenant, skill, used_id, staff
):
    # given: the id learned as the wrong skill
    other = make_skill(tenant, skill_id="prd-review", name="PRD Review")
    add_file(workspace, plugin_lines(6, [used_id]))
    record(tenant, other, "conv-6-0")
    telemetry_poll_tenant(tenant=tenant)
    mapping = PluginSkillMapping.objects.get(tenant=tenant, skills_used_id=used_id)
    assert mapping.skill == other

    # when
    plugin_skill_mapping_set(
        tenant=tenant, mapping_id=mapping.pk, skill_id=skill.skill_id, user=staff
    )

    # then
    mapping.refresh_from_db()
    assert mapping.state == PluginSkillMapping.State.CONFIRMED and mapping.confirmed_by == staff
    assert set(uses(tenant).values_list("skill_ref", flat=True)) == {"incident-postmortem"}


def test_a_confirmed_mapping_is_never_relearned(workspace, tenant, skill, used_id, staff):
    # given: staff say the id is none of the tenant's skills, then its records say otherwise
    add_file(workspace, plugin_lines(7, [used_id]))
    logs_poll(tenant=tenant, principal=WS)
    mapping = PluginSkillMapping.objects.get(tenant=tenant, skills_used_id=used_id)
    plugin_skill_mapping_set(tenant=tenant, mapping_id=mapping.pk, skill_id="", user=staff)
    record(tenant, skill, "conv-7-0")

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then
    mapping.refresh_from_db()
    assert mapping.skill is None and mapping.state == PluginSkillMapping.State.CONFIRMED
    assert set(uses(tenant).values_list("event_type", flat=True)) == {"unmapped"}


def test_another_tenants_skill_cannot_be_mapped(workspace, tenant, used_id, staff, other_tenant):
    # given
    make_skill(other_tenant, skill_id="secret-skill")
    add_file(workspace, plugin_lines(8, [used_id]))
    logs_poll(tenant=tenant, principal=WS)
    mapping = PluginSkillMapping.objects.get(tenant=tenant)

    # when / then
    with pytest.raises(MappingError):
        plugin_skill_mapping_set(
            tenant=tenant, mapping_id=mapping.pk, skill_id="secret-skill", user=staff
        )
    mapping.refresh_from_db()
    assert mapping.skill is None and mapping.state == PluginSkillMapping.State.UNMAPPED


def test_a_failed_hub_record_makes_the_use_a_failure_with_its_reason(
    workspace, tenant, skill, used_id
):
    # given
    add_file(workspace, plugin_lines(9, [used_id], conversations=2))
    record(tenant, skill, "conv-9-0")
    record(tenant, skill, "conv-9-1", status=HubRecord.Status.FAILED, error_code="upstream_timeout")

    # when
    telemetry_poll_tenant(tenant=tenant)

    # then
    failed = uses(tenant).get(conversation_id="conv-9-1")
    assert failed.event_type == TelemetryEvent.EventType.FAILED
    assert failed.error_code == "upstream_timeout"
    assert uses(tenant).get(conversation_id="conv-9-0").event_type == "invoked"


def test_a_record_without_a_conversation_id_takes_the_app_call_that_wrote_it(tenant, skill):
    # given: an MCP call's record (no conversation header) and the APP_LOG call a second before
    now = timezone.now()
    written = record(tenant, skill, "")
    TelemetryEvent.objects.create(
        tenant=tenant,
        source=TelemetryEvent.Source.COMPLIANCE_LOGS,
        source_event_id="app-1",
        event_type=TelemetryEvent.EventType.APP_CALL,
        occurred_at=written.created_at - timedelta(seconds=1),
        gpt_name="Claresia",
        skill_ref="",
        conversation_id="conv-from-app-log",
        raw={},
    )

    # when
    filled = hub_record_conversations_fill(tenant=tenant, now=now)

    # then
    written.refresh_from_db()
    assert filled == 1 and written.openai_conversation_id == "conv-from-app-log"
