"""The set-based flagging of invocations without a hub record (one INSERT … SELECT on
PostgreSQL) against its obviously correct twin (the rows through Python): for any mix of
invocations, hub records, failures, repeats and another tenant's rows, both write the same
governance events, and running either again writes none."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claresia.models import Tenant
from skills.models import Skill
from telemetry.hub.models import GovernanceEvent, HubRecord
from telemetry.ingest import reconcile
from telemetry.models import TelemetryEvent

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START, UNTIL = NOW - timedelta(hours=2), NOW - timedelta(minutes=15)

invocations = st.lists(
    st.tuples(
        st.integers(0, 2),  # skill
        st.sampled_from(["c1", "c2", "c3", ""]),  # conversation ("" is never judged)
        st.integers(0, 180),  # minutes ago: some outside the checked range
        st.sampled_from(["invoked", "invoked", "failed"]),
        st.booleans(),  # the other tenant's
        st.sampled_from(["compliance_api", "compliance_logs", "audit_export"]),
    ),
    max_size=25,
)
records = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["c1", "c2", "c3"])), max_size=4, unique=True
)


def _events(tenant) -> list[tuple]:
    return sorted(
        GovernanceEvent.objects.filter(tenant=tenant).values_list(
            "skill_id",
            "kind",
            "message",
            "openai_conversation_id",
            "dedupe_key",
            "details",
            "occurred_at",
            "hub_record_id",
        )
    )


def _flag(flagger, tenant) -> tuple[int, list[tuple]]:
    """Flag with `flagger`, then undo it; (its count, the events it wrote)."""
    with transaction.atomic():
        count = flagger(tenant=tenant, start=START, until=UNTIL)
        again = flagger(tenant=tenant, start=START, until=UNTIL)
        written = _events(tenant)
        transaction.set_rollback(True)
    assert again == 0
    return count, written


def _two_tenants(*, skills_each: int) -> tuple[list[Tenant], dict[tuple[int, int], Skill]]:
    """Tenants `t-one` and `t-two`, each with skills `skill-0`…; the skills keyed (tenant pk, n)."""
    tenants = [Tenant.objects.create(slug=slug, name=slug) for slug in ("t-one", "t-two")]
    skills = {
        (tenant.pk, n): Skill.objects.create(
            tenant=tenant, skill_id=f"skill-{n}", name=f"Skill {n}", version="1", ir={}
        )
        for tenant in tenants
        for n in range(skills_each)
    }
    return tenants, skills


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(invocations=invocations, records=records)
def test_flagging_in_sql_writes_what_the_row_by_row_twin_writes(invocations, records):
    if connection.vendor != "postgresql":
        pytest.skip("the set-based flagging is PostgreSQL's")
    with transaction.atomic():
        # given two tenants with three skills each, invocations and some hub records
        tenants, skills = _two_tenants(skills_each=3)
        for index, (skill, conversation, minutes, kind, other, source) in enumerate(invocations):
            tenant = tenants[1 if other else 0]
            TelemetryEvent.objects.create(
                tenant=tenant,
                skill=skills[(tenant.pk, skill)],
                skill_ref=f"skill-{skill}",
                source=source,
                source_event_id=f"event-{index}",
                event_type=kind,
                occurred_at=NOW - timedelta(minutes=minutes),
                conversation_id=conversation,
                actor_email=f"user{index}@example.com",
                gpt_id=f"g-{index}",
                raw={},
            )
        for skill, conversation in records:
            HubRecord.objects.create(
                tenant=tenants[0],
                skill=skills[(tenants[0].pk, skill)],
                openai_conversation_id=conversation,
                content_hash=conversation,
                output="## Done",
                model="gpt-4o",
            )

        # when each way flags the first tenant
        in_sql = _flag(reconcile._flag_missing_records_in_sql, tenants[0])
        one_by_one = _flag(reconcile._flag_missing_records_one_by_one, tenants[0])

        # then both wrote the same events, and the same count of them
        assert in_sql == one_by_one
        assert in_sql[0] == len(in_sql[1])
        transaction.set_rollback(True)


cost_events = st.lists(
    st.tuples(
        st.integers(0, 1),  # skill
        st.sampled_from(["c1", "c2", ""]),  # conversation ("" is never filled)
        st.sampled_from([0, 2, 4, 6, 10, 60 * 24 * 8]),  # minutes ago: one older than the horizon
        st.sampled_from(["invoked", "invoked", "failed", "app_call"]),
        st.booleans(),  # a plugin skill's use (`skills_used`): the slack applies
        st.booleans(),  # the other tenant's
        st.sampled_from(["compliance_logs", "compliance_logs", "compliance_api"]),
        st.booleans(),  # already filled
    ),
    max_size=20,
)
cost_records = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.sampled_from(["c1", "c2"]),
        st.sampled_from([-1, 0, 1, 3, 5, 8, 12]),  # minutes ago: before and after the uses
        st.sampled_from(["completed", "failed", "failed"]),
        st.sampled_from(["", "tool_timeout"]),
        st.integers(0, 3),  # cost and latency, to tell records apart
    ),
    max_size=6,
)


def _filled(filler, tenant) -> tuple[int, list[tuple]]:
    """Fill with `filler`, then undo it; (its count, every event as it then is)."""
    with transaction.atomic():
        count = filler(tenant=tenant, now=NOW)
        again = filler(tenant=tenant, now=NOW)
        rows = sorted(
            TelemetryEvent.objects.values_list(
                "source_event_id", "event_type", "error_code", "cost_usd", "latency_ms"
            )
        )
        transaction.set_rollback(True)
    assert again == 0 or again == count  # a record of no cost leaves its event to fill again
    return count, rows


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=cost_events, records=cost_records)
def test_costs_in_sql_fill_what_the_orm_twin_fills(events, records):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement fill is PostgreSQL's")
    with transaction.atomic():
        # given two tenants, Logs Platform uses (some of plugin skills) and hub records, some
        # failed, made before and after the uses
        tenants, skills = _two_tenants(skills_each=2)
        for index, (skill, conversation, minutes, kind, plugin, other, source, filled) in enumerate(
            events
        ):
            tenant = tenants[1 if other else 0]
            TelemetryEvent.objects.create(
                tenant=tenant,
                skill=skills[(tenant.pk, skill)],
                skill_ref=f"skill-{skill}",
                source=source,
                source_event_id=f"event-{index}",
                event_type=kind,
                occurred_at=NOW - timedelta(minutes=minutes),
                conversation_id=conversation,
                plugin_skill_id=f"s_{index}" if plugin else "",
                cost_usd=Decimal("9") if filled else None,
                raw={},
            )
        for index, (skill, conversation, minutes, status, code, cost) in enumerate(records):
            for tenant in tenants:
                record = HubRecord.objects.create(
                    tenant=tenant,
                    skill=skills[(tenant.pk, skill)],
                    openai_conversation_id=conversation,
                    content_hash=f"{conversation}-{index}",
                    output="## Done",
                    model="gpt-4o",
                    status=status,
                    error_code=code if status == "failed" else "",
                    cost_usd=Decimal(cost),
                    latency_ms=cost * 100,
                )
                HubRecord.objects.filter(pk=record.pk).update(
                    created_at=NOW - timedelta(minutes=minutes)
                )

        # when each way fills the first tenant's events
        in_sql = _filled(reconcile._costs_from_hub_records_in_sql, tenants[0])
        orm = _filled(reconcile._costs_from_hub_records_orm, tenants[0])

        # then both changed the same events the same way, and counted them alike
        assert in_sql == orm
        transaction.set_rollback(True)
