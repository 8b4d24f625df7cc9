import pytest
from django.utils import timezone

from telemetry.hub.models import GovernanceEvent
from telemetry.hub.services import governance_event_record

pytestmark = pytest.mark.django_db


def test_writing_the_same_governance_event_twice_keeps_one(tenant, skill):
    # given
    event = {
        "tenant": tenant,
        "kind": GovernanceEvent.Kind.HUB_RECORD_MISSING,
        "dedupe_key": "audit-evt-123",
        "message": "Incident Postmortem ran with no hub record.",
        "occurred_at": timezone.now(),
        "skill": skill,
        "conversation_id": "conv-9",
    }
    first = governance_event_record(**event)

    # when
    second = governance_event_record(**{**event, "message": "changed"})

    # then
    assert second.pk == first.pk
    assert GovernanceEvent.objects.get().message == "Incident Postmortem ran with no hub record."


def test_the_same_key_in_another_tenant_is_another_event(tenant, other_tenant):
    # given
    common = {
        "kind": GovernanceEvent.Kind.HUB_RECORD_MISSING,
        "dedupe_key": "audit-evt-123",
        "message": "missing",
        "occurred_at": timezone.now(),
    }
    governance_event_record(tenant=tenant, **common)

    # when
    governance_event_record(tenant=other_tenant, **common)

    # then
    assert GovernanceEvent.objects.count() == 2
